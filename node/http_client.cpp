#include "node/http_client.hpp"

#include <curl/curl.h>

#include <mutex>

namespace umupaka {
namespace {

std::once_flag curl_once;

size_t on_data(char* ptr, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(ptr, size * n);
  return size * n;
}

}  // namespace

struct HttpClient::Impl {
  std::string base;
  std::string auth;
  CURL* curl = nullptr;
  long timeout_ms = 30000;
};

HttpClient::HttpClient(std::string base, std::string token) : impl_(std::make_unique<Impl>()) {
  std::call_once(curl_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  impl_->base = std::move(base);
  if (!token.empty()) impl_->auth = "Authorization: Bearer " + token;
  impl_->curl = curl_easy_init();
}

HttpClient::~HttpClient() {
  if (impl_->curl != nullptr) curl_easy_cleanup(impl_->curl);
}

void HttpClient::set_timeout_ms(long ms) { impl_->timeout_ms = ms; }

HttpResponse HttpClient::get(const std::string& path) { return request("GET", path, nullptr); }
HttpResponse HttpClient::post(const std::string& path, const std::string& body,
                              const std::vector<std::string>& headers) {
  return request("POST", path, &body, headers);
}
HttpResponse HttpClient::del(const std::string& path, const std::string& body,
                             const std::vector<std::string>& headers) {
  return request("DELETE", path, &body, headers);
}

HttpResponse HttpClient::request(const char* method, const std::string& path,
                                 const std::string* body, const std::vector<std::string>& extra) {
  HttpResponse out;
  CURL* c = impl_->curl;
  curl_easy_reset(c);
  const std::string url = impl_->base + path;
  curl_slist* headers = nullptr;
  if (!impl_->auth.empty()) headers = curl_slist_append(headers, impl_->auth.c_str());
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Expect:");
  for (const std::string& h : extra) headers = curl_slist_append(headers, h.c_str());
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, impl_->timeout_ms);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &out.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &out.headers);
  curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
  if (body != nullptr) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  }
  const CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.status);
  } else {
    out.error = curl_easy_strerror(rc);
  }
  curl_slist_free_all(headers);
  return out;
}

}  // namespace umupaka
