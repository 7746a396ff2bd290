// Durable puts per second against etcd's v3 JSON gateway (POST /v3/kv/put), with the same HTTP
// client and concurrency as the Umupaka measurement, for bench/etcd_compare.sh.
//
//   kv_put_bench --url http://127.0.0.1:23790 --seconds 15 --concurrency 32 --value-bytes 450
#include <botan/base64.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>

#include "node/http_client.hpp"

int main(int argc, char** argv) {
  CLI::App app{"kv_put_bench"};
  std::string url;
  double seconds = 15;
  unsigned concurrency = 32;
  size_t value_bytes = 450;
  app.add_option("--url", url)->required();
  app.add_option("--seconds", seconds);
  app.add_option("--concurrency", concurrency);
  app.add_option("--value-bytes", value_bytes);
  CLI11_PARSE(app, argc, argv);
  const std::string value(value_bytes, 'v');
  const std::string value64 =
      Botan::base64_encode(reinterpret_cast<const uint8_t*>(value.data()), value.size());
  std::atomic<uint64_t> ok{0}, failed{0};
  std::mutex mu;
  std::vector<double> latencies;
  const auto t0 = std::chrono::steady_clock::now();
  const auto end = t0 + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < concurrency; ++t) {
    threads.emplace_back([&, t] {
      umupaka::HttpClient c(url, "");
      std::vector<double> mine;
      for (uint64_t i = 0; std::chrono::steady_clock::now() < end; ++i) {
        const std::string key = "crossing/" + std::to_string(t) + "/" + std::to_string(i);
        const std::string key64 =
            Botan::base64_encode(reinterpret_cast<const uint8_t*>(key.data()), key.size());
        const auto s = std::chrono::steady_clock::now();
        const auto r =
            c.post("/v3/kv/put", "{\"key\":\"" + key64 + "\",\"value\":\"" + value64 + "\"}");
        mine.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s)
                .count());
        (r.status == 200 ? ok : failed)++;
      }
      std::lock_guard lock(mu);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    return latencies.empty() ? 0.0
                             : latencies[std::min(latencies.size() - 1,
                                                  static_cast<size_t>(p * (latencies.size() - 1)))];
  };
  std::printf(
      "etcd: %llu durable puts of %zu bytes in %.1f s = %.0f puts/s (%llu failed); p50 %.1f ms, "
      "p99 %.1f ms\n",
      static_cast<unsigned long long>(ok.load()), value_bytes, s, ok / s,
      static_cast<unsigned long long>(failed.load()), pct(0.5), pct(0.99));
  return 0;
}
