// A small blocking HTTP/1.1 client over libcurl, for the tools that talk to a node's API
// (umupaka-traffic, umupaka-admin, benchmarks, integration tests). One Client per thread; it keeps
// its connection alive between requests.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace umupaka {

struct HttpResponse {
  long status = 0;  // 0 when the request did not complete
  std::string body;
  std::string error;    // transport error text when status == 0
  std::string headers;  // the response's header lines as received ("Name: value\r\n" each)
};

class HttpClient {
 public:
  // `base` like "http://127.0.0.1:7400"; `token` sent as a bearer token when not empty.
  HttpClient(std::string base, std::string token);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResponse get(const std::string& path);
  // `headers`: more request header lines, "Name: value" each (an Idempotency-Key, say).
  HttpResponse post(const std::string& path, const std::string& json_body,
                    const std::vector<std::string>& headers = {});
  HttpResponse del(const std::string& path, const std::string& json_body = {},
                   const std::vector<std::string>& headers = {});
  void set_timeout_ms(long ms);

 private:
  HttpResponse request(const char* method, const std::string& path, const std::string* body,
                       const std::vector<std::string>& headers = {});
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace umupaka
