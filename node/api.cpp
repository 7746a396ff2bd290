#include "node/api.hpp"

#include <botan/base64.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <csignal>
#include <future>
#include <map>
#include <mutex>
#include <restinio/all.hpp>
#include <set>
#include <thread>

#include "ledger/codec.hpp"
#include "ledger/countries.hpp"
#include "ledger/limits.hpp"
#include "ledger/record.hpp"
#include "ledger/validate.hpp"
#include "node/clock.hpp"
#include "node/json_visit.hpp"
#include "node/ledger_apply.hpp"
#include "node/network_setup.hpp"
#include "node/queries.hpp"

namespace umupaka {
namespace {

using json = nlohmann::json;
using router_t = restinio::router::express_router_t<>;
// The router is wrapped (start()): what it throws while matching a request (a path whose
// percent-escapes decode to invalid UTF-8, say) is answered 400, never a dropped connection.
using traits_t = restinio::traits_t<restinio::asio_timer_manager_t, restinio::null_logger_t,
                                    restinio::default_request_handler_t>;
using req_t = restinio::request_handle_t;
using params_t = restinio::router::route_params_t;

// RESTinio drops connections whose body exceeds this; between api_body_bytes_max and this we can
// still answer 413 with an explanation.
constexpr uint64_t transport_body_bytes_max = 1024 * 1024;
static_assert(limits::api_body_bytes_max < transport_body_bytes_max);

// A request body as JSON; discarded if it is not JSON. A name given twice in one object (RFC 8259
// leaves it to the reader; nlohmann keeps the last) is ambiguous, so `duplicate` gets the JSON
// path of the first one repeated ("traveller.sex"), for a 422 naming it.
json parse_json_body(const std::string& body, std::optional<std::string>& duplicate) {
  struct Frame {
    bool array = false;
    size_t index = 0;  // in an array: the element being read
    std::string key;   // in an object: the name of the value being read
    std::set<std::string> keys;
  };
  std::vector<Frame> frames;
  auto done_value = [&] {
    if (!frames.empty() && frames.back().array) ++frames.back().index;
  };
  const json::parser_callback_t note = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        frames.push_back(Frame{event == json::parse_event_t::array_start});
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        frames.pop_back();
        done_value();
        break;
      case json::parse_event_t::key: {
        Frame& top = frames.back();
        top.key = parsed.get<std::string>();
        if (!top.keys.insert(top.key).second && !duplicate) {
          std::string path;
          for (const Frame& f : frames)
            path +=
                f.array ? "[" + std::to_string(f.index) + "]" : (path.empty() ? "" : ".") + f.key;
          duplicate = path;
        }
        break;
      }
      case json::parse_event_t::value:
        done_value();
        break;
    }
    return true;
  };
  return json::parse(body, note, /*allow_exceptions=*/false);
}

int http_status_of(Errc c) {
  switch (c) {
    case Errc::invalid_field:
    case Errc::mrz_format:
    case Errc::mrz_check_digit:
    case Errc::decode:
      return 422;
    case Errc::bad_signature:
    case Errc::chain_broken:
      return 422;
    case Errc::not_found:
      return 404;
    case Errc::conflict:
      return 409;
    case Errc::limit_exceeded:
      return 413;
    case Errc::unauthorized:
      return 401;
    case Errc::forbidden:
      return 403;
    case Errc::unavailable:
      return 503;
    case Errc::disk_full:
      return 507;
    default:
      return 500;
  }
}

// A request to a served path with a method it is not served for: answered 405 with the methods
// it is (RFC 9110 §15.5.6), not a 404 that says the path does not exist.
class OtherMethods final : public restinio::router::method_matcher_t {
 public:
  explicit OtherMethods(std::vector<restinio::http_method_id_t> served)
      : served_(std::move(served)) {}
  bool match(const restinio::http_method_id_t& method) const noexcept override {
    return std::find(served_.begin(), served_.end(), method) == served_.end();
  }

 private:
  std::vector<restinio::http_method_id_t> served_;
};

restinio::http_status_line_t status_line(int code) {
  switch (code) {
    case 200:
      return restinio::status_ok();
    case 201:
      return restinio::status_created();
    case 400:
      return restinio::status_bad_request();
    case 401:
      return restinio::status_unauthorized();
    case 403:
      return restinio::status_forbidden();
    case 404:
      return restinio::status_not_found();
    case 405:
      return restinio::status_method_not_allowed();
    case 409:
      return restinio::status_conflict();
    case 413:
      return restinio::status_payload_too_large();
    case 414:
      return restinio::status_uri_too_long();
    case 422:
      return restinio::status_unprocessable_entity();
    case 503:
      return restinio::status_service_unavailable();
    case 507:
      return restinio::status_insufficient_storage();
    default:
      return restinio::status_internal_server_error();
  }
}

// Prometheus counters shared by the handlers.
struct Metrics {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> responses_2xx{0}, responses_4xx{0}, responses_5xx{0};
  std::atomic<uint64_t> records_recorded{0};
  std::atomic<uint64_t> idempotent_replays{0};  // writes answered again for an Idempotency-Key
  std::atomic<uint64_t> crossings_by_verdict[3] = {};
  std::atomic<uint64_t> traveller_queries{0};
  std::atomic<uint64_t> unauthorized{0};
  std::atomic<uint64_t> store_read_failures{0};  // read_error's, and /metrics' own
};

}  // namespace

struct ApiServer::Impl {
  ApiDeps deps;
  Metrics metrics;
  int64_t started_ms = 0;

  // Tokens, reloaded when DATA/tokens changes (umupaka-node token create appends to it).
  std::mutex tokens_mu;
  std::map<Hash, TokenEntry> tokens;
  int64_t tokens_mtime_ns = -1;

  std::mutex access_mu;
  FILE* access_log = nullptr;

  asio::io_context io;
  std::unique_ptr<restinio::http_server_t<traits_t>> server;
  std::vector<std::thread> threads;
  bool stopped = false;
  uint16_t bound_port = 0;  // the port listened on (the kernel's choice for port 0)

  explicit Impl(ApiDeps d) : deps(std::move(d)) {}

  // accepted: durable here only; seen: held by another node too (or received from one).
  const char* record_state(std::string_view origin, uint64_t seq) const {
    if (origin != deps.core.identity().site) return "seen";
    if (deps.network != nullptr && deps.network->seen_by_peers(origin) >= seq) return "seen";
    return "accepted";
  }
  RecordStateFn state_fn() const {
    return [this](std::string_view o, uint64_t s) { return record_state(o, s); };
  }

  // --- responses ---
  // Responses handed to RESTinio and not yet written (or failed): stop() lets the server threads
  // write them before it stops them, so a write answered while the node stops is not lost unsent.
  // Shared with the write callbacks, which RESTinio calls (with an error, at the latest when a
  // connection is destroyed) even after this Impl is gone.
  std::shared_ptr<std::atomic<int64_t>> responses_in_flight =
      std::make_shared<std::atomic<int64_t>>(0);
  template <typename Response>
  void send(Response&& response) {
    ++*responses_in_flight;
    response.done([in_flight = responses_in_flight](const asio::error_code&) { --*in_flight; });
  }
  using Headers = std::vector<std::pair<std::string, std::string>>;
  void respond(const req_t& req, int code, const json& body, const Headers& headers = {}) {
    (code < 300   ? metrics.responses_2xx
     : code < 500 ? metrics.responses_4xx
                  : metrics.responses_5xx)++;
    auto response = req->create_response(status_line(code));
    for (const auto& [name, value] : headers) response.append_header(name, value);
    response
        .append_header(restinio::http_field::content_type, "application/json")
        // Invalid UTF-8 (an id echoed from a path, say) is replaced, never a throw.
        .set_body(body.dump(-1, ' ', false, json::error_handler_t::replace));
    send(std::move(response));
  }
  void respond_error(const req_t& req, const Error& e) {
    respond(req, http_status_of(e.code),
            json{{"code", error_code_name(e.code)},
                 {"message", e.message},
                 {"field", e.field.empty() ? json(nullptr) : json(e.field)}});
  }
  void respond_error(const req_t& req, int code, const std::string& name, const std::string& msg,
                     const std::string& field = {}, const std::string& allow = {}) {
    respond(req, code,
            json{{"code", name},
                 {"message", msg},
                 {"field", field.empty() ? json(nullptr) : json(field)}},
            allow.empty() ? Headers{} : Headers{{"Allow", allow}});
  }

  // --- authentication ---
  // Called on every request (one stat): a line deleted from the tokens file revokes that token
  // at once. A file that is gone, or that does not load, admits no token at all until it does.
  void reload_tokens_if_changed() {
    struct stat st {};
    const std::string path = deps.config.data_dir + "/tokens";
    if (::stat(path.c_str(), &st) != 0) {
      if (tokens_mtime_ns != -1) spdlog::error("tokens: {} is gone; no token is accepted", path);
      tokens.clear();
      tokens_mtime_ns = -1;
      return;
    }
    const int64_t mtime = int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec +
                          static_cast<int64_t>(st.st_size) + static_cast<int64_t>(st.st_ino);
    if (mtime == tokens_mtime_ns) return;
    tokens.clear();
    tokens_mtime_ns = mtime;
    auto loaded = load_tokens(deps.config.data_dir);
    if (!loaded.ok()) {
      spdlog::error("tokens: {}; no token is accepted until the file loads",
                    loaded.error().message);
      return;
    }
    for (auto& t : loaded.value()) tokens[t.token_hash] = t;
  }

  // A header that may come once: its value without the whitespace around it (RFC 9110 §5.5), or
  // nullopt if absent. Given more than once it is answered 400 here and `ok` is false: which
  // one the sender meant is not for the node to guess.
  std::optional<std::string> single_header(const req_t& req, std::string_view name, bool& ok) {
    std::vector<std::string> values;
    req->header().for_each_value_of(restinio::string_view_t(name.data(), name.size()),
                                    [&](const restinio::string_view_t& v) {
                                      values.emplace_back(v.data(), v.size());
                                      return restinio::http_header_fields_t::continue_enumeration();
                                    });
    ok = values.size() <= 1;
    if (!ok) {
      respond_error(
          req, 400, "bad_request",
          std::string(name) + " is given " + std::to_string(values.size()) + " times; send it once",
          std::string(name));
      return std::nullopt;
    }
    if (values.empty()) return std::nullopt;
    std::string v = std::move(values.front());
    const auto ows = [](char c) { return c == ' ' || c == '\t'; };
    while (!v.empty() && ows(v.back())) v.pop_back();
    v.erase(v.begin(), std::find_if_not(v.begin(), v.end(), ows));
    return v;
  }

  // The caller's token entry if it may act in one of `roles`; otherwise answers 401/403 (400 for
  // an Authorization header given twice).
  std::optional<TokenEntry> authorize(const req_t& req, std::initializer_list<Role> roles) {
    bool once = true;
    const std::string auth = single_header(req, "Authorization", once).value_or("");
    if (!once) return std::nullopt;
    // "Bearer" TOKEN, the scheme in any case (RFC 9110 §11.1).
    const size_t space = auth.find(' ');
    const std::string_view scheme = std::string_view(auth).substr(0, space);
    const bool bearer = space != std::string::npos && scheme.size() == 6 &&
                        std::equal(scheme.begin(), scheme.end(), "bearer", [](char a, char b) {
                          return std::tolower(static_cast<unsigned char>(a)) == b;
                        });
    const size_t from = bearer ? auth.find_first_not_of(' ', space) : std::string::npos;
    const std::string_view token =
        from == std::string::npos ? std::string_view() : std::string_view(auth).substr(from);
    if (token.empty()) {
      metrics.unauthorized++;
      respond_error(req, 401, "unauthorized", "missing bearer token (Authorization: Bearer ...)");
      return std::nullopt;
    }
    const Hash h = sha256(token);
    std::optional<TokenEntry> entry;
    {
      std::lock_guard lock(tokens_mu);
      reload_tokens_if_changed();
      if (const auto it = tokens.find(h); it != tokens.end()) entry = it->second;
    }
    if (!entry) {
      metrics.unauthorized++;
      respond_error(req, 401, "unauthorized", "unknown token");
      return std::nullopt;
    }
    for (Role r : roles)
      if (entry->role == r) return entry;
    std::string allowed;
    for (Role r : roles) allowed += (allowed.empty() ? "" : ", ") + std::string(enum_name(r));
    respond_error(
        req, 403, "forbidden",
        "role " + std::string(enum_name(entry->role)) + " may not do this; allowed: " + allowed);
    return std::nullopt;
  }

  void log_access(const TokenEntry& who, const std::string& what, const std::string& subject) {
    std::lock_guard lock(access_mu);
    if (access_log == nullptr) return;
    const json line{{"time", format_iso_instant_ms(deps.clock())},
                    {"subject", who.subject},
                    {"role", enum_name(who.role)},
                    {"read", what},
                    {"person", subject}};
    std::fputs((line.dump(-1, ' ', false, json::error_handler_t::replace) + "\n").c_str(),
               access_log);
    std::fflush(access_log);
  }

  // --- body parsing ---
  std::optional<json> parse_body(const req_t& req, bool allow_empty = false) {
    const std::string& body = req->body();
    if (body.size() > limits::api_body_bytes_max) {
      respond_error(req, 413, "limit_exceeded",
                    "request body of " + std::to_string(body.size()) + " bytes exceeds " +
                        std::to_string(limits::api_body_bytes_max));
      return std::nullopt;
    }
    if (body.empty() && allow_empty) return json::object();
    std::optional<std::string> duplicate;
    json j = parse_json_body(body, duplicate);
    if (j.is_discarded()) {
      respond_error(req, 400, "malformed_json", "the request body is not valid JSON");
      return std::nullopt;
    }
    if (duplicate) {
      respond_error(req,
                    make_error(Errc::invalid_field, *duplicate + " is given twice", *duplicate));
      return std::nullopt;
    }
    return j;
  }

  template <typename T>
  std::optional<T> read_request(const req_t& req, bool allow_empty = false) {
    auto j = parse_body(req, allow_empty);
    if (!j) return std::nullopt;
    auto r = json_visit::from_json<T>(*j);
    if (!r.ok()) {
      respond_error(req, r.error());
      return std::nullopt;
    }
    return std::move(r).value();
  }

  // --- writes ---
  json recorded_json(const Recorded& r) {
    json j{{"origin", r.ref.origin}, {"seq", r.ref.seq},
           {"hash", to_hex(r.hash)}, {"type", record_type_name(r.type)},
           {"state", "accepted"},    {"time", format_iso_instant_ms(r.hlc.physical_ms())}};
    if (!r.object_id.empty()) j["id"] = r.object_id;
    if (r.checks) {
      j["verdict"] = enum_name(r.checks->verdict);
      j["findings"] = json_visit::to_json(r.checks->findings);
      j["decision"] = enum_name(*r.decision);
      j["permit_id"] =
          r.crossing && r.crossing->permit_id ? json(*r.crossing->permit_id) : json(nullptr);
      j["overstay_days"] = r.checks->overstay_days;
      j["allowed_until"] = json_visit::to_json(r.checks->allowed_until);
      j["traveller"] = json_visit::to_json(r.crossing->traveller);
      j["document"] = json_visit::to_json(r.crossing->document);
    }
    return j;
  }

  // A write's Idempotency-Key header (docs/api.md, "Retries"), with the fingerprint of the request
  // it comes with (method, target and body: a retry sends the same bytes). Absent: nullopt and ok;
  // malformed: answered 422 here, and false.
  bool idempotency_key(const req_t& req, std::optional<IdempotencyKey>& out) {
    bool once = true;
    const std::optional<std::string> key = single_header(req, "Idempotency-Key", once);
    if (!once) return false;
    if (!key) return true;
    const bool printable = std::all_of(key->begin(), key->end(), [](char c) {
      return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f;
    });
    if (key->empty() || key->size() > limits::idempotency_key_bytes_max || !printable) {
      respond_error(req, 422, "invalid_field",
                    "Idempotency-Key must be 1 to " +
                        std::to_string(limits::idempotency_key_bytes_max) +
                        " printable ASCII characters without spaces (a UUID, say)",
                    "Idempotency-Key");
      return false;
    }
    const std::string method = req->header().method().c_str();
    out = IdempotencyKey{*key,
                         sha256({method, " ", req->header().request_target(), "\n", req->body()})};
    return true;
  }

  void submit(const req_t& req, CommandBody body, const TokenEntry& who) {
    Command cmd{std::move(body), who.subject, {}};
    if (!idempotency_key(req, cmd.idempotency)) return;
    const bool queued = deps.writer.submit(std::move(cmd), [this, req](Result<Recorded> r) {
      if (!r.ok()) return respond_error(req, r.error());
      json j = recorded_json(*r);
      if (r->replayed) {
        metrics.idempotent_replays++;
        j["replayed"] = true;
        return respond(req, 201, j, Headers{{"Idempotent-Replayed", "true"}});
      }
      metrics.records_recorded++;
      if (r->checks) metrics.crossings_by_verdict[static_cast<int>(r->checks->verdict)]++;
      respond(req, 201, j);
    });
    if (!queued)
      respond_error(req, 503, "unavailable",
                    "the node's write queue is full or the node is stopping; retry shortly");
  }

  // --- reads ---
  // A read transaction whose store reported an error (an LMDB failure or corruption:
  // StoreTxn::write_error, which every read notes) found nothing where there may be something: its
  // answer would be a false 404 or a short page. It gets 500 `storage` instead, and a log line.
  // Called after a handler's reads, before it answers.
  bool read_failed(const req_t& req, const StoreTxn& txn) {
    const auto& e = txn.write_error();
    if (!e) return false;
    read_error(req, make_error(Errc::storage, "the store could not be read: " + e->message));
    return true;
  }
  // Every read that fails in the store answers here (a read transaction that could not begin,
  // a failed read, an own table's entry that does not decode): counted, logged, answered 500.
  void read_error(const req_t& req, const Error& e) {
    metrics.store_read_failures++;
    spdlog::error("{}: {}", req->header().path(), e.message);
    respond_error(req, e);
  }

  void get_record(const req_t& req, const params_t& params) {
    auto who = authorize(req, {Role::officer, Role::consular, Role::hq_admin, Role::auditor});
    if (!who) return;
    const std::string origin{params["origin"]};
    if (!valid_site_id(origin))
      return respond_error(req, 422, "invalid_field",
                           "origin must be a site id: lower-case letters, digits and '-'",
                           "origin");
    const std::string_view seq_text = params["seq"];
    uint64_t seq = 0;
    const auto [end, ec] = std::from_chars(seq_text.data(), seq_text.data() + seq_text.size(), seq);
    if (ec != std::errc() || end != seq_text.data() + seq_text.size())
      return respond_error(req, 422, "invalid_field", "seq must be a whole number from 0 to 2^64-1",
                           "seq");
    auto txn = deps.store.read();
    if (!txn.ok()) return read_error(req, txn.error());
    auto j = record_json(**txn, origin, seq, true, deps.core.identity(), deps.core.public_key(),
                         state_fn());
    if (read_failed(req, **txn)) return;
    if (!j.ok()) return read_error(req, j.error());
    if (j->is_null())
      return respond_error(req, 404, "not_found",
                           "no record " + origin + "/" + std::to_string(seq) + " at this node");
    log_access(*who, "record " + origin + "/" + std::to_string(seq), "");
    respond(req, 200, *j);
  }

  void get_traveller(const req_t& req, const params_t& params) {
    auto who = authorize(req, {Role::officer, Role::consular, Role::hq_admin, Role::auditor});
    if (!who) return;
    const std::string country{normalize_state_code(params["country"])};
    const std::string number{params["number"]};
    if (!is_known_state_code(country))
      return respond_error(req, 422, "invalid_field", "unknown state code " + country, "country");
    if (!valid_document_number(number))
      return respond_error(req, 422, "invalid_field", "not a document number", "number");
    metrics.traveller_queries++;
    auto txn = deps.store.read();
    if (!txn.ok()) return read_error(req, txn.error());
    auto j = traveller_picture(**txn, deps.core.identity(), country, number,
                               date_of_instant_ms(deps.clock()), state_fn());
    if (read_failed(req, **txn)) return;
    if (!j.ok()) return read_error(req, j.error());
    log_access(*who, "traveller", document_key(country, number));
    respond(req, 200, *j);
  }

  void get_feeds(const req_t& req) {
    if (!authorize(req, {Role::officer, Role::consular, Role::hq_admin, Role::auditor})) return;
    auto txn = deps.store.read();
    if (!txn.ok()) return read_error(req, txn.error());
    json feeds = json::array();
    for (const auto& [origin, head] : (*txn)->heads())
      feeds.push_back({{"origin", origin}, {"seq", head.seq}, {"hash", to_hex(head.hash)}});
    if (read_failed(req, **txn)) return;
    respond(req, 200, json{{"feeds", feeds}});
  }

  json counts_json(const StoreTxn& txn) {
    uint64_t records = 0;
    for (const auto& [o, h] : txn.heads()) records += h.seq;
    const Tables& t = txn.tables();
    return json{{"records", records},
                {"feeds", txn.count_of(t.heads)},
                {"documents", txn.count_of(t.documents)},
                {"permits", txn.count_of(t.permits)},
                {"alerts", txn.count_of(t.alerts)},
                {"present", txn.count_of(t.presence)}};
  }

  // How far this node's own feed goes here, and elsewhere when a peer or the committed ledger
  // holds more of it than this store (docs/operations.md: a store restored from a backup).
  json own_feed_json(const StoreTxn& txn) {
    const std::string& self = deps.core.identity().site;
    const auto head = txn.head(self);
    const uint64_t held = head ? head->seq : 0;
    const uint64_t elsewhere = std::max(deps.core.own_seq_elsewhere(), ledger_seq(txn, self));
    return json{{"seq", held},
                {"seq_elsewhere", elsewhere > held ? json(elsewhere) : json(nullptr)},
                {"behind", elsewhere > held},
                {"recovered", deps.core.own_records_recovered()},
                {"restore_hold", deps.core.restore_hold()},
                {"peers_heard", deps.core.peers_heard()}};
  }

  void get_status(const req_t& req) {
    if (!authorize(req, {Role::officer, Role::consular, Role::hq_admin, Role::auditor})) return;
    auto txn = deps.store.read();
    if (!txn.ok()) return read_error(req, txn.error());
    const auto ws = deps.writer.stats();
    const NodeIdentity& id = deps.core.identity();
    json counts = counts_json(**txn), own_feed = own_feed_json(**txn),
         network = network_json(**txn), ledger = ledger_json(**txn);
    // Counts or heads read as 0 from a store that failed would mislead whoever watches.
    if (read_failed(req, **txn)) return;
    respond(req, 200,
            json{{"node", id.site},
                 {"site", id.site},
                 {"kind", enum_name(id.kind)},
                 {"network_id", id.network_id},
                 {"public_keys",
                  {{"signing", to_hex(deps.core.public_key())},
                   {"transport", deps.transport_public_key}}},
                 {"counts", counts},
                 {"own_feed", own_feed},
                 {"writer",
                  {{"batches", ws.batches},
                   {"records", ws.records},
                   {"rejected", ws.rejected},
                   {"commit_failures", ws.commit_failures},
                   {"batch_records_max", ws.batch_records_max},
                   {"queue_depth", ws.queue_depth},
                   {"queue_full", ws.queue_full},
                   {"pace", deps.writer.pace()},
                   {"paced", ws.paced}}},
                 {"store",
                  {{"map_bytes", deps.store.env().map_bytes()},
                   {"map_grows", deps.store.map_grows()},
                   {"stale_readers_cleared", deps.store.env().stale_readers_cleared()}}},
                 {"started_at", format_iso_instant_ms(started_ms)},
                 {"network", network},
                 {"ledger", ledger},
                 {"version", "0.1.0"}});
  }

  // Peers (alive, suspect, dead; last contact; records behind per origin), quarantined origins,
  // gossip and transport counters.
  json network_json(const StoreTxn& txn) {
    if (deps.network == nullptr) return json{{"joined", false}};
    const NetworkStatus ns = deps.network->status();
    const Membership m = deps.network->membership();
    std::map<std::string, uint64_t> mine;
    for (const auto& [o, h] : txn.heads()) mine[o] = h.seq;
    const int64_t now_steady = steady_clock_ms();
    json peers = json::array();
    for (const PeerStatus& p : ns.peers) {
      json behind = json::object();
      std::map<std::string, uint64_t> theirs;
      for (const auto& e : p.frontier) theirs[e.origin] = e.seq;
      for (const auto& [o, seq] : mine) {
        const uint64_t t = theirs.count(o) ? theirs[o] : 0;
        if (seq > t) behind[o] = seq - t;
      }
      peers.push_back({{"site", p.site},
                       {"state", enum_name(p.state)},
                       {"link", enum_name(p.link)},
                       {"last_contact_ms_ago", p.last_contact_ms == swim::never_ms
                                                   ? json(nullptr)
                                                   : json(now_steady - p.last_contact_ms)},
                       {"behind", p.frontier.empty() ? json(nullptr) : behind},
                       {"bytes_sent", p.bytes_sent},
                       {"send_failures", p.send_failures}});
    }
    json quarantined = json::array();
    for (const auto& [o, seq] : ns.quarantine)
      quarantined.push_back({{"origin", o}, {"seq", seq}, {"reason", "equivocation"}});
    const GossipStats& g = ns.gossip;
    const NetworkCounters& c = ns.counters;
    return json{{"joined", true},
                {"network_id", m.network_id()},
                {"sites", m.sites().size()},
                {"root_seq", m.root_seq()},
                {"peers", peers},
                {"quarantined", quarantined},
                {"gossip",
                 {{"records_in", g.records_in},
                  {"records_stored", g.records_stored},
                  {"records_duplicate", g.records_duplicate},
                  {"records_gap", g.records_gap},
                  {"records_rejected", g.records_rejected},
                  {"signatures_verified", g.signatures_verified},
                  {"runs_verified_by_chain", g.runs_verified_by_chain},
                  {"equivocations", g.equivocations},
                  {"messages_invalid", g.messages_invalid},
                  {"bandwidth_deferred", g.bandwidth_deferred},
                  {"fetch_requests", g.fetch_requests},
                  {"fetches_refused", g.fetches_refused},
                  {"digests_refused", g.digests_refused},
                  {"frontier_entries_dropped", g.frontier_entries_dropped},
                  {"records_held", ns.records_held}}},
                {"transport",
                 {{"frames_in", c.frames_in},
                  {"frames_out", c.frames_out},
                  {"bytes_in", c.bytes_in},
                  {"bytes_out", c.bytes_out},
                  {"frames_rejected", c.frames_rejected},
                  {"send_would_block", c.send_would_block},
                  {"send_unreachable", c.send_unreachable},
                  {"redials", c.redials},
                  {"zap_admitted", c.zap_admitted},
                  {"zap_refused", c.zap_refused},
                  {"ingest_refused", c.ingest_refused}}}};
  }

  // Role, term, leader, commit and applied index, each follower's match index, the ledger's size
  // and Merkle root, and the latest signed head.
  json ledger_json(const StoreTxn& txn) {
    const LedgerMeta meta = read_ledger_meta(txn);
    json j{{"size", meta.size},
           {"root", to_hex(ledger_root(txn, meta.size))},
           {"applied_index", meta.applied_index},
           {"cluster_time", meta.cluster_time_ms ? json(format_iso_instant_ms(
                                                       static_cast<int64_t>(meta.cluster_time_ms)))
                                                 : json(nullptr)}};
    if (deps.network == nullptr) return j;
    const OrderStatus o = deps.network->status().order;
    j["raft"] = {{"enabled", o.enabled},
                 {"role", o.role},
                 {"term", o.term},
                 {"leader", o.leader.empty() ? json(nullptr) : json(o.leader)},
                 {"commit", o.commit},
                 {"applied", o.applied},
                 {"last_index", o.last_index},
                 {"held_appends", o.held_appends},
                 {"apply_waiting", o.apply_waiting},
                 {"proposals", o.proposals},
                 {"voters", o.voters},
                 {"learners", o.learners},
                 {"raft_restarts", o.raft_restarts},
                 {"snapshot_index", o.snapshot_index},
                 {"conf_index", o.conf_index},
                 {"first_index", o.first_index},
                 {"snapshots_made", o.snapshots_made},
                 {"snapshots_installed", o.snapshots_installed},
                 {"segments_refused", o.segments_refused},
                 {"messages_refused", o.messages_refused},
                 {"heads_refused", o.heads_refused},
                 {"segment_requests", o.segment_requests},
                 {"segment_requests_dropped", o.segment_requests_dropped},
                 {"head_waiting", o.head_waiting},
                 {"heads_waiting", o.heads_waiting}};
    if (o.installing != 0)
      j["raft"]["installing"] = {{"snapshot_index", o.installing},
                                 {"ledger_size", o.install_size},
                                 {"snapshot_size", o.install_target}};
    else
      j["raft"]["installing"] = nullptr;
    json match = json::object();
    for (const auto& [id, m] : o.match) match[id] = m;
    j["raft"]["match"] = match;
    return j;
  }

  json head_json(const LedgerHead& h) {
    return json{{"network_id", h.network_id},
                {"size", h.size},
                {"root", to_hex(h.root)},
                {"cluster_time", format_iso_instant_ms(static_cast<int64_t>(h.cluster_time_ms))},
                {"cluster_time_ms", h.cluster_time_ms},
                {"signer", h.signer},
                {"signature", to_hex(h.signature)},
                {"signed", base64_of(ledger_head_signing_bytes(h))}};
  }

  static std::string base64_of(std::string_view b) {
    return Botan::base64_encode(reinterpret_cast<const uint8_t*>(b.data()), b.size());
  }

  // Errc::invalid_field naming the first query parameter that is not one of `names` (a bare one
  // included): a misspelt one (`sise=10`) would otherwise be passed over and the answer made for
  // the default, a proof at another size than asked. `query` when the string does not parse.
  static Status only_params(const req_t& req, std::initializer_list<std::string_view> names) {
    const auto q = restinio::try_parse_query<restinio::parse_query_traits::restinio_defaults>(
        req->header().query());
    if (!q)
      return make_error(Errc::invalid_field,
                        "the query string does not parse: " + q.error().description(), "query");
    std::string taken;
    for (const std::string_view n : names) taken += (taken.empty() ? "" : ", ") + std::string(n);
    if (taken.empty()) taken = "none";
    const auto refuse = [&](std::string_view name) -> Status {
      if (std::find(names.begin(), names.end(), name) != names.end()) return {};
      if (name.empty())  // "?=1": a value without a name
        return make_error(Errc::invalid_field,
                          "a query parameter without a name (this path takes " + taken + ")",
                          "query");
      return make_error(
          Errc::invalid_field,
          "unknown query parameter '" + std::string(name) + "' (this path takes " + taken + ")",
          std::string(name));
    };
    if (q->tag()) RETURN_IF_ERROR(refuse(*q->tag()));
    for (const auto& kv : *q) RETURN_IF_ERROR(refuse(kv.first));
    return {};
  }

  // A numeric query parameter: nullopt when absent; Errc::invalid_field naming it when it is
  // given without a value or more than once, or is not a decimal number in lo .. hi, and
  // naming `query` when the query string does not parse.
  static Result<std::optional<uint64_t>> query_u64(const req_t& req, const char* name,
                                                   uint64_t lo = 0, uint64_t hi = UINT64_MAX) {
    const auto q = restinio::try_parse_query<restinio::parse_query_traits::restinio_defaults>(
        req->header().query());
    if (!q)
      return make_error(Errc::invalid_field,
                        "the query string does not parse: " + q.error().description(), "query");
    if (q->tag() && *q->tag() == name)
      return make_error(Errc::invalid_field, std::string(name) + " needs a value", name);
    if (std::count_if(q->begin(), q->end(), [&](const auto& kv) { return kv.first == name; }) > 1)
      return make_error(Errc::invalid_field, std::string(name) + " is given more than once", name);
    if (!q->has(name)) return std::optional<uint64_t>{};
    const auto v = (*q)[name];
    uint64_t out = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (v.empty() || ec != std::errc{} || end != v.data() + v.size() || out < lo || out > hi)
      return make_error(Errc::invalid_field,
                        std::string(name) + " must be a whole number from " + std::to_string(lo) +
                            " to " + std::to_string(hi) + ", got '" + std::string(v) + "'",
                        name);
    return std::optional<uint64_t>{out};
  }

  // How far each feed is committed (the ledger frontier), and the ledger's size.
  void get_ledger_frontier(const req_t& req) {
    if (!authorize(req, {Role::officer, Role::consular, Role::hq_admin, Role::auditor})) return;
    if (const Status s = only_params(req, {}); !s.ok()) return respond_error(req, s.error());
    auto txn = deps.store.read();
    if (!txn.ok()) return read_error(req, txn.error());
    json f = json::object();
    for (const auto& item : ledger_frontier(**txn)) f[item.origin] = item.seq;
    const uint64_t size = read_ledger_meta(**txn).size;
    if (read_failed(req, **txn)) return;
    respond(req, 200, json{{"size", size}, {"frontier", f}});
  }

  void get_ledger_head(const req_t& req) {
    if (!authorize(req, {Role::officer, Role::consular, Role::hq_admin, Role::auditor})) return;
    if (const Status s = only_params(req, {}); !s.ok()) return respond_error(req, s.error());
    auto txn = deps.store.read();
    if (!txn.ok()) return read_error(req, txn.error());
    const auto h = (*txn)->meta("ledger.head");
    if (read_failed(req, **txn)) return;
    if (!h) return respond_error(req, 404, "not_found", "no signed ledger head yet");
    auto head = decode_ledger_head(*h);
    // This node's own table: a head that does not decode is a fault of the store, not of input.
    if (!head.ok())
      return read_error(req, make_error(Errc::storage, "the stored ledger head does not decode: " +
                                                           head.error().message));
    respond(req, 200, head_json(*head));
  }

  // The change feed: committed records in global order, after position `after`.
  void get_ledger(const req_t& req) {
    const auto who = authorize(req, {Role::consular, Role::hq_admin, Role::auditor});
    if (!who) return;
    if (const Status s = only_params(req, {"after", "limit"}); !s.ok())
      return respond_error(req, s.error());
    const auto after = query_u64(req, "after");
    if (!after.ok()) return respond_error(req, after.error());
    const auto asked_limit = query_u64(req, "limit", 1, limits::api_list_items_max);
    if (!asked_limit.ok()) return respond_error(req, asked_limit.error());
    const uint64_t limit = asked_limit->value_or(100);
    auto txn = deps.store.read();
    if (!txn.ok()) return read_error(req, txn.error());
    const LedgerMeta meta = read_ledger_meta(**txn);
    // after = 2^64-1 is past any ledger: an empty page, not a wrap to the start.
    const uint64_t start = !*after ? 0 : **after == UINT64_MAX ? UINT64_MAX : **after + 1;
    json items = json::array();
    for (uint64_t p = start; p < meta.size && items.size() < limit; ++p) {
      const auto ref = (*txn)->at_position(p);
      Result<json> item =
          ref ? record_json(**txn, ref->origin, ref->seq, true, deps.core.identity(),
                            deps.core.public_key(), state_fn(), &ref->hash)
              : Result<json>(json(nullptr));
      if (read_failed(req, **txn)) return;
      if (!item.ok()) return read_error(req, item.error());
      // Every position below the size has its record, kept: a page never stops short of one
      // (the next would start past it) nor holds a null; a store that lacks one is at fault.
      if (item->is_null())
        return read_error(req, make_error(Errc::storage, "the ledger's record at position " +
                                                             std::to_string(p) + " is missing"));
      items.push_back(std::move(item).value());
    }
    if (read_failed(req, **txn)) return;
    const uint64_t last = start + items.size();
    // The records carry people's data: each page read is logged, as every such read is.
    if (!items.empty())
      log_access(*who,
                 "ledger positions " + std::to_string(start) + ".." + std::to_string(last - 1), "");
    respond(req, 200,
            json{{"size", meta.size},
                 {"records", items},
                 {"next_after",
                  items.empty() ? (*after ? json(**after) : json(nullptr)) : json(last - 1)}});
  }

  // Whether a proof at `size` is covered by the latest signed head this node holds: its size
  // (null before any), and whether the proof's size is at most it (checkable against the signed
  // root directly when equal, through a consistency proof to it when smaller). The head trails
  // the ledger by up to head_interval_ms while a leader signs heads (docs/ledger.md). A stored
  // head that does not decode is a fault of the store (500, as GET /v1/ledger/head answers).
  Status add_signed_head(json& j, const StoreTxn& txn, uint64_t size) {
    std::optional<uint64_t> head_size;
    if (const auto h = txn.meta("ledger.head")) {
      auto head = decode_ledger_head(*h);
      if (!head.ok())
        return make_error(Errc::storage,
                          "the stored ledger head does not decode: " + head.error().message);
      head_size = head->size;
    }
    j["signed_head_size"] = head_size ? json(*head_size) : json(nullptr);
    j["covered_by_signed_head"] = head_size && size <= *head_size;
    return {};
  }

  void get_inclusion(const req_t& req) {
    if (!authorize(req, {Role::officer, Role::consular, Role::hq_admin, Role::auditor})) return;
    if (const Status s = only_params(req, {"position", "size"}); !s.ok())
      return respond_error(req, s.error());
    const auto asked_position = query_u64(req, "position");
    if (!asked_position.ok()) return respond_error(req, asked_position.error());
    const auto asked_size = query_u64(req, "size");
    if (!asked_size.ok()) return respond_error(req, asked_size.error());
    auto txn = deps.store.read();
    if (!txn.ok()) return read_error(req, txn.error());
    const LedgerMeta meta = read_ledger_meta(**txn);
    if (read_failed(req, **txn)) return;  // (a size of 0 would answer 422)
    const uint64_t size = asked_size->value_or(meta.size);
    const std::string need =
        "need 0 <= position < size <= ledger size (" + std::to_string(meta.size) + ")";
    if (size > meta.size) return respond_error(req, 422, "invalid_field", need, "size");
    if (!*asked_position || **asked_position >= size)
      return respond_error(req, 422, "invalid_field", need, "position");
    const std::optional<uint64_t> position = *asked_position;
    StoreSubtrees tree(**txn);
    auto proof = merkle::inclusion_proof(tree, *position, size);
    const auto ref = (*txn)->at_position(*position);
    const Hash root = ledger_root(**txn, size);
    if (read_failed(req, **txn)) return;
    if (!proof.ok()) return respond_error(req, proof.error());
    if (!ref)
      return read_error(req,
                        make_error(Errc::storage, "the ledger's record at position " +
                                                      std::to_string(*position) + " is missing"));
    json path = json::array();
    for (const auto& h : *proof) path.push_back(to_hex(h));
    json out{{"position", *position},
             {"size", size},
             {"origin", ref->origin},
             {"seq", ref->seq},
             {"record_hash", to_hex(ref->hash)},
             {"leaf_hash", to_hex(merkle::leaf_hash(ref->hash))},
             {"audit_path", path},
             {"root", to_hex(root)}};
    const Status head = add_signed_head(out, **txn, size);
    if (read_failed(req, **txn)) return;
    if (!head.ok()) return read_error(req, head.error());
    respond(req, 200, out);
  }

  void get_consistency(const req_t& req) {
    if (!authorize(req, {Role::officer, Role::consular, Role::hq_admin, Role::auditor})) return;
    if (const Status s = only_params(req, {"from", "to"}); !s.ok())
      return respond_error(req, s.error());
    const auto asked_from = query_u64(req, "from");
    if (!asked_from.ok()) return respond_error(req, asked_from.error());
    const auto asked_to = query_u64(req, "to");
    if (!asked_to.ok()) return respond_error(req, asked_to.error());
    auto txn = deps.store.read();
    if (!txn.ok()) return read_error(req, txn.error());
    const LedgerMeta meta = read_ledger_meta(**txn);
    if (read_failed(req, **txn)) return;  // (a size of 0 would answer 422)
    const std::optional<uint64_t> from = *asked_from, to = *asked_to;
    const std::string need =
        "need 0 < from <= to <= ledger size (" + std::to_string(meta.size) + ")";
    if (!to || *to > meta.size) return respond_error(req, 422, "invalid_field", need, "to");
    if (!from || *from == 0 || *from > *to)
      return respond_error(req, 422, "invalid_field", need, "from");
    StoreSubtrees tree(**txn);
    auto proof = merkle::consistency_proof(tree, *from, *to);
    const Hash from_root = ledger_root(**txn, *from), to_root = ledger_root(**txn, *to);
    if (read_failed(req, **txn)) return;
    if (!proof.ok()) return respond_error(req, proof.error());
    json p = json::array();
    for (const auto& h : *proof) p.push_back(to_hex(h));
    json out{{"from", *from},
             {"to", *to},
             {"from_root", to_hex(from_root)},
             {"to_root", to_hex(to_root)},
             {"proof", p}};
    const Status head = add_signed_head(out, **txn, *to);
    if (read_failed(req, **txn)) return;
    if (!head.ok()) return read_error(req, head.error());
    respond(req, 200, out);
  }

  void get_conflicts(const req_t& req) {
    if (!authorize(req, {Role::hq_admin, Role::auditor})) return;
    // Alerts at positions after `after` (every alert without it), a page at most; a page never
    // ends inside one position's alerts, and `next_after` is where the next page starts. Only
    // positions the ledger holds: a fork alert is raised at the position of the next record,
    // before that record is committed, and the record's own alerts join it there later; served
    // early, a page would end at that position and the next start past it, missing them.
    if (const Status s = only_params(req, {"after"}); !s.ok()) return respond_error(req, s.error());
    const auto after = query_u64(req, "after");
    if (!after.ok()) return respond_error(req, after.error());
    const uint64_t first = !*after ? 0 : **after == UINT64_MAX ? UINT64_MAX : **after + 1;
    auto txn = deps.store.read();
    if (!txn.ok()) return read_error(req, txn.error());
    const size_t page = limits::api_list_items_max;
    const uint64_t size = read_ledger_meta(**txn).size;
    std::vector<ConflictAlert> alerts;
    const auto read = [&](size_t limit) -> Status {
      alerts.clear();
      for (const auto& bytes : (*txn)->conflicts_from(first, limit)) {
        auto c = decode_conflict(bytes);
        // This node's own table: a fault of the store (500), not of input.
        if (!c.ok())
          return make_error(Errc::storage,
                            "a stored conflict alert does not decode: " + c.error().message);
        if (c->position >= size) break;  // (in position order: the rest are past it too)
        alerts.push_back(std::move(c).value());
      }
      return {};
    };
    if (!*after || **after != UINT64_MAX)
      if (const Status s = read(page + 1); !s.ok()) return read_error(req, s.error());
    if (alerts.size() > page) {
      const uint64_t cut = alerts[page].position;
      if (alerts.front().position != cut) {
        // Drop the position the page would cut: the next page starts with it.
        alerts.resize(page);
        while (alerts.back().position == cut) alerts.pop_back();
      } else {
        // One position holds more than a page: this page is that position, whole.
        for (size_t limit = 2 * page;; limit *= 2) {
          if (const Status s = read(limit + 1); !s.ok()) return read_error(req, s.error());
          if (alerts.size() <= limit || alerts.back().position != cut) break;
        }
        while (!alerts.empty() && alerts.back().position != cut) alerts.pop_back();
      }
    }
    if (read_failed(req, **txn)) return;
    json out = json::array();
    for (const auto& c : alerts) out.push_back(json_visit::to_json(c));
    const json next =
        alerts.empty() ? (*after ? json(**after) : json(nullptr)) : json(alerts.back().position);
    respond(req, 200, json{{"conflicts", out}, {"next_after", next}});
  }

  void get_membership(const req_t& req) {
    if (!authorize(req, {Role::officer, Role::consular, Role::hq_admin, Role::auditor})) return;
    if (deps.network == nullptr)
      return respond(req, 200,
                     json{{"joined", false}, {"network_id", deps.core.identity().network_id}});
    const Membership m = deps.network->membership();
    json sites = json::array();
    for (const auto& [id, s] : m.sites()) {
      json e = json_visit::to_json(s.entry);
      e["revoked_after"] = s.revoked_after ? json(*s.revoked_after) : json(nullptr);
      e["revoke_reason"] = s.revoke_reason;
      sites.push_back(std::move(e));
    }
    respond(req, 200,
            json{{"joined", true},
                 {"network_id", m.network_id()},
                 {"root_key", to_hex(m.root_key())},
                 {"root_seq", m.root_seq()},
                 {"root_head", to_hex(m.root_head())},
                 {"voters", m.voters()},
                 {"learners", m.learners()},
                 {"sites", sites}});
  }

  // A root-signed membership record from umupaka-admin: verified against the root key, then
  // ingested like a record received from a peer, and gossiped from there.
  void post_membership(const req_t& req) {
    if (!authorize(req, {Role::hq_admin})) return;
    if (deps.network == nullptr)
      return respond_error(req, 409, "conflict",
                           "this node has not joined a network (umupaka-node join)");
    if (!parse_body(req)) return;  // answered: too large, not JSON, a name given twice
    const std::string& body = req->body();
    auto sr = signed_record_from_json(body);
    if (!sr.ok()) return respond_error(req, sr.error());
    // A restored store may be behind on the root feed too: a record made from its head would
    // fork the membership (docs/operations.md).
    if (auto held = deps.core.restore_hold_status(); !held.ok())
      return respond_error(req, held.error());
    const Membership m = deps.network->membership();
    auto rec = open_record(*sr, m.root_key());
    if (!rec.ok()) return respond_error(req, rec.error());
    if (rec->header.origin.value != root_origin || rec->header.network_id != m.network_id())
      return respond_error(req, 422, "invalid_field",
                           "not a root record of network " + m.network_id(), "origin");
    // Every peer checks it whole (GossipCore::verify_one): one they all refuse, taken here, would
    // stop the root feed everywhere but here. (umupaka-admin checks before signing.)
    if (auto s = validate_record(*rec); !s.ok()) return respond_error(req, s.error());
    // A revocation that would leave the ledger's configuration without a majority of voters
    // able to vote could never be committed, nor anything after it.
    if (const auto* rv = std::get_if<SiteRevoked>(&rec->body)) {
      const OrderStatus order = deps.network->status().order;
      if (!order.enabled || order.voters.empty())
        return respond_error(req, 503, "unavailable",
                             "this node's ledger configuration is not known right now (the order "
                             "plane is starting or restarting); retry");
      if (auto s = m.revocation_keeps_quorum(*rv, order.voters); !s.ok())
        return respond_error(req, s.error());
    }
    const Hash prev_hash = rec->header.prev_hash;
    std::vector<VerifiedRecord> v{VerifiedRecord{*sr, std::move(rec).value()}};
    const bool queued = deps.writer.submit_ingest(
        std::move(v), IngestKind::posted,
        [this, req, prev_hash](Result<std::vector<IngestResult>> r) {
          if (!r.ok()) return respond_error(req, r.error());
          const IngestResult& x = r->front();
          if (x.outcome == IngestOutcome::stored || x.outcome == IngestOutcome::duplicate)
            return respond(
                req, 201,
                json{{"origin", x.origin}, {"seq", x.seq}, {"outcome", enum_name(x.outcome)}});
          // (The core's membership, in this writer thread after the commit: the network
          // thread's copy may not have the record just before this one yet.)
          const uint64_t head = deps.core.membership().root_seq();
          // Not the next record of the root feed here (behind it, beyond it, or not linked to
          // its head): 409, nothing written; anything else the record itself is refused for:
          // 422 with the reason.
          const bool out_of_place =
              x.outcome == IngestOutcome::gap || x.seq <= head ||
              (x.seq == head + 1 && prev_hash != deps.core.membership().root_head());
          respond_error(
              req, out_of_place ? 409 : 422, out_of_place ? "conflict" : "invalid_field",
              out_of_place
                  ? "root record " + std::to_string(x.seq) +
                        " is not the next of this node's root feed (head " + std::to_string(head) +
                        "): " + (x.reason.empty() ? "make it again from the head" : x.reason)
                  : "membership record refused: " + x.reason,
              "seq");
        });
    if (!queued) respond_error(req, 503, "unavailable", "write queue full; retry");
  }

  void get_metrics(const req_t& req) {
    // A store that failed to read is counted, not shown as 0 records: the gauge is left out then
    // (a scraper sees it missing), and the node still answers with everything else it knows.
    std::optional<uint64_t> records;
    if (auto txn = deps.store.read(); !txn.ok()) {
      metrics.store_read_failures++;
      spdlog::error("/metrics: the store could not be read: {}", txn.error().message);
    } else if (const json counts = counts_json(**txn); (*txn)->write_error()) {
      metrics.store_read_failures++;
      spdlog::error("/metrics: the store could not be read: {}", (*txn)->write_error()->message);
    } else {
      records = counts["records"].get<uint64_t>();
    }
    const auto ws = deps.writer.stats();
    std::string out;
    auto metric = [&](const char* name, const char* type, const char* help, uint64_t v,
                      const std::string& labels = {}) {
      out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
      out += std::string(name) + labels + " " + std::to_string(v) + "\n";
    };
    if (records) metric("umupaka_records_stored", "gauge", "Records held in all feeds.", *records);
    metric("umupaka_store_read_failures_total", "counter",
           "Reads of the store that failed: answered 500, or left out of /metrics.",
           metrics.store_read_failures);
    metric("umupaka_records_recorded_total", "counter", "Records recorded through this API.",
           metrics.records_recorded);
    metric("umupaka_api_idempotent_replays_total", "counter",
           "Writes answered with the record their Idempotency-Key made before (retries).",
           metrics.idempotent_replays);
    out +=
        "# HELP umupaka_crossings_total Crossings recorded, by the checks' verdict.\n"
        "# TYPE umupaka_crossings_total counter\n";
    for (int v = 0; v < 3; ++v)
      out += "umupaka_crossings_total{verdict=\"" +
             std::string(enum_name(static_cast<Verdict>(v))) + "\"} " +
             std::to_string(metrics.crossings_by_verdict[v].load()) + "\n";
    metric("umupaka_http_requests_total", "counter", "HTTP requests received.", metrics.requests);
    out +=
        "# HELP umupaka_http_responses_total HTTP responses by class.\n"
        "# TYPE umupaka_http_responses_total counter\n";
    out += "umupaka_http_responses_total{class=\"2xx\"} " +
           std::to_string(metrics.responses_2xx.load()) + "\n";
    out += "umupaka_http_responses_total{class=\"4xx\"} " +
           std::to_string(metrics.responses_4xx.load()) + "\n";
    out += "umupaka_http_responses_total{class=\"5xx\"} " +
           std::to_string(metrics.responses_5xx.load()) + "\n";
    metric("umupaka_unauthorized_total", "counter", "Requests with a missing or unknown token.",
           metrics.unauthorized);
    metric("umupaka_traveller_queries_total", "counter", "Traveller lookups.",
           metrics.traveller_queries);
    metric("umupaka_write_batches_total", "counter", "Group commits.", ws.batches);
    metric("umupaka_write_rejected_total", "counter", "Commands refused (bad input, conflict).",
           ws.rejected);
    metric("umupaka_write_commit_failures_total", "counter", "Failed commits (e.g. disk full).",
           ws.commit_failures);
    metric("umupaka_write_queue_depth", "gauge", "Commands waiting for the writer.",
           ws.queue_depth);
    metric("umupaka_write_queue_full_total", "counter", "Commands refused with 503: queue full.",
           ws.queue_full);
    metric("umupaka_write_batch_records_max", "gauge", "Largest group commit so far.",
           ws.batch_records_max);
    metric("umupaka_store_map_bytes", "gauge", "LMDB map size.", deps.store.env().map_bytes());
    if (deps.network != nullptr) {
      const NetworkStatus ns = deps.network->status();
      metric("umupaka_gossip_records_stored_total", "counter", "Records received and stored.",
             ns.gossip.records_stored);
      metric("umupaka_gossip_records_rejected_total", "counter",
             "Records that failed verification or admission.", ns.gossip.records_rejected);
      metric("umupaka_gossip_equivocations_total", "counter", "Forked feeds detected.",
             ns.gossip.equivocations);
      metric("umupaka_quarantined_origins", "gauge", "Origins quarantined for equivocation.",
             ns.quarantine.size());
      metric("umupaka_transport_send_failures_total", "counter",
             "Sends refused: peer high-water mark or unreachable.",
             ns.counters.send_would_block + ns.counters.send_unreachable);
      metric("umupaka_transport_zap_refused_total", "counter",
             "Peer connections refused: key not certified.", ns.counters.zap_refused);
      metric("umupaka_transport_frames_rejected_total", "counter",
             "Frames dropped as oversized or undecodable.", ns.counters.frames_rejected);
      size_t alive = 0, suspect = 0, dead = 0;
      for (const auto& p : ns.peers)
        (p.state == swim::MemberState::alive     ? alive
         : p.state == swim::MemberState::suspect ? suspect
                                                 : dead)++;
      out += "# HELP umupaka_peers Peers by state.\n# TYPE umupaka_peers gauge\n";
      out += "umupaka_peers{state=\"alive\"} " + std::to_string(alive) + "\n";
      out += "umupaka_peers{state=\"suspect\"} " + std::to_string(suspect) + "\n";
      out += "umupaka_peers{state=\"dead\"} " + std::to_string(dead) + "\n";
    }
    auto response = req->create_response(restinio::status_ok());
    response.append_header(restinio::http_field::content_type, "text/plain; version=0.0.4")
        .set_body(out);
    send(std::move(response));
  }

  std::unique_ptr<router_t> make_router() {
    auto r = std::make_unique<router_t>();
    auto counted = [this](auto fn) {
      return [this, fn](req_t req, params_t params) {
        metrics.requests++;
        fn(req, params);
        return restinio::request_accepted();
      };
    };
    // Every path with the methods it is served for, for the 405s below.
    std::map<std::string, std::vector<restinio::http_method_id_t>> served;
    auto route = [&](restinio::http_method_id_t method, const char* path, auto handler) {
      served[path].push_back(method);
      r->add_handler(method, path, std::move(handler));
    };
    route(restinio::http_method_get(), "/healthz",
          counted([this](const req_t& req, const params_t&) {
            respond(req, 200,
                    json{{"ok", true}, {"node", deps.core.identity().site}, {"pid", ::getpid()}});
          }));
    route(restinio::http_method_get(), "/metrics",
          counted([this](const req_t& req, const params_t&) { get_metrics(req); }));
    route(restinio::http_method_get(), "/v1/status",
          counted([this](const req_t& req, const params_t&) { get_status(req); }));
    route(restinio::http_method_get(), "/v1/feeds",
          counted([this](const req_t& req, const params_t&) { get_feeds(req); }));
    route(restinio::http_method_get(), "/v1/ledger/frontier",
          counted([this](const req_t& req, const params_t&) { get_ledger_frontier(req); }));
    route(restinio::http_method_get(), "/v1/ledger/head",
          counted([this](const req_t& req, const params_t&) { get_ledger_head(req); }));
    route(restinio::http_method_get(), "/v1/ledger/proof/inclusion",
          counted([this](const req_t& req, const params_t&) { get_inclusion(req); }));
    route(restinio::http_method_get(), "/v1/ledger/proof/consistency",
          counted([this](const req_t& req, const params_t&) { get_consistency(req); }));
    route(restinio::http_method_get(), "/v1/ledger",
          counted([this](const req_t& req, const params_t&) { get_ledger(req); }));
    route(restinio::http_method_get(), "/v1/conflicts",
          counted([this](const req_t& req, const params_t&) { get_conflicts(req); }));
    route(restinio::http_method_get(), "/v1/membership",
          counted([this](const req_t& req, const params_t&) { get_membership(req); }));
    route(restinio::http_method_post(), "/v1/membership",
          counted([this](const req_t& req, const params_t&) { post_membership(req); }));
    route(restinio::http_method_get(), "/v1/records/:origin/:seq",
          counted([this](const req_t& req, const params_t& p) { get_record(req, p); }));
    route(restinio::http_method_get(), "/v1/travellers/:country/:number",
          counted([this](const req_t& req, const params_t& p) { get_traveller(req, p); }));

    route(restinio::http_method_post(), "/v1/checks",
          counted([this](const req_t& req, const params_t&) {
            auto who = authorize(req, {Role::officer, Role::hq_admin});
            if (!who) return;
            auto body = read_request<CrossingRequest>(req);
            if (!body) return;
            auto txn = deps.store.read();
            if (!txn.ok()) return read_error(req, txn.error());
            auto result = deps.core.check(*body, **txn, deps.clock());
            // A verdict from a store that could not be read could pass a stolen passport.
            if (read_failed(req, **txn)) return;
            if (!result.ok()) return respond_error(req, result.error());
            respond(req, 200,
                    json{{"verdict", enum_name(result->verdict)},
                         {"findings", json_visit::to_json(result->findings)},
                         {"permit_id", json_visit::to_json(result->permit_id)},
                         {"overstay_days", result->overstay_days},
                         {"allowed_until", json_visit::to_json(result->allowed_until)}});
          }));
    route(restinio::http_method_post(), "/v1/crossings",
          counted([this](const req_t& req, const params_t&) {
            auto who = authorize(req, {Role::officer, Role::hq_admin});
            if (!who) return;
            auto body = read_request<CrossingRequest>(req);
            if (body) submit(req, std::move(*body), *who);
          }));
    route(restinio::http_method_post(), "/v1/permits",
          counted([this](const req_t& req, const params_t&) {
            auto who = authorize(req, {Role::officer, Role::consular, Role::hq_admin});
            if (!who) return;
            auto body = read_request<PermitRequest>(req);
            if (!body) return;
            // An officer at the desk issues what is issued on arrival: the visa on
            // arrival and the East Africa Tourist Visa (docs/api.md, roles).
            if (who->role == Role::officer && body->kind != PermitKind::visa_on_arrival &&
                body->kind != PermitKind::east_africa_tourist_visa)
              return respond_error(req, 403, "forbidden",
                                   "an officer issues visas on arrival only; " +
                                       std::string(enum_name(body->kind)) +
                                       " is for consular or hq-admin tokens",
                                   "kind");
            submit(req, std::move(*body), *who);
          }));
    route(restinio::http_method_post(), "/v1/permits/:id/status",
          counted([this](const req_t& req, const params_t& p) {
            auto who = authorize(req, {Role::officer, Role::consular, Role::hq_admin});
            if (!who) return;
            auto body = read_request<PermitStatusRequest>(req);
            if (!body) return;
            body->permit_id = std::string(p["id"]);
            submit(req, std::move(*body), *who);
          }));
    route(restinio::http_method_post(), "/v1/travel-documents",
          counted([this](const req_t& req, const params_t&) {
            auto who = authorize(req, {Role::consular, Role::hq_admin});
            if (!who) return;
            auto body = read_request<TravelDocumentRequest>(req);
            if (body) submit(req, std::move(*body), *who);
          }));
    route(restinio::http_method_post(), "/v1/travel-documents/:country/:number/status",
          counted([this](const req_t& req, const params_t& p) {
            auto who = authorize(req, {Role::officer, Role::consular, Role::hq_admin});
            if (!who) return;
            auto body = read_request<DocumentStatusRequest>(req);
            if (!body) return;
            // An officer reports a document lost or stolen; revoking is consular work.
            if (who->role == Role::officer && body->status == DocumentStatus::revoked)
              return respond_error(req, 403, "forbidden",
                                   "an officer reports documents lost or stolen; revoking "
                                   "one is for consular or hq-admin tokens",
                                   "status");
            body->country = std::string(normalize_state_code(p["country"]));
            body->number = std::string(p["number"]);
            submit(req, std::move(*body), *who);
          }));
    route(restinio::http_method_post(), "/v1/alerts",
          counted([this](const req_t& req, const params_t&) {
            auto who = authorize(req, {Role::hq_admin});
            if (!who) return;
            auto body = read_request<AlertRequest>(req);
            if (body) submit(req, std::move(*body), *who);
          }));
    route(restinio::http_method_delete(), "/v1/alerts/:id",
          counted([this](const req_t& req, const params_t& p) {
            auto who = authorize(req, {Role::hq_admin});
            if (!who) return;
            auto body = read_request<AlertLiftRequest>(req, /*allow_empty=*/true);
            if (!body) return;
            body->alert_id = std::string(p["id"]);
            submit(req, std::move(*body), *who);
          }));
    for (auto& [path, methods] : served) {
      std::string allow;
      for (const auto& m : methods) allow += (allow.empty() ? "" : ", ") + std::string(m.c_str());
      r->add_handler(OtherMethods(methods), path, [this, allow](req_t req, const params_t&) {
        metrics.requests++;
        respond_error(req, 405, "method_not_allowed",
                      std::string(req->header().method().c_str()) + " " +
                          std::string(req->header().path()) + ": this path takes " + allow,
                      {}, allow);
        return restinio::request_accepted();
      });
    }
    r->non_matched_request_handler([this](req_t req) {
      metrics.requests++;
      respond_error(req, 404, "not_found",
                    "no such API path: " + std::string(req->header().method().c_str()) + " " +
                        std::string(req->header().path()));
      return restinio::request_accepted();
    });
    return r;
  }
};

ApiServer::ApiServer(ApiDeps deps) : impl_(std::make_unique<Impl>(std::move(deps))) {}

ApiServer::~ApiServer() { stop(); }

Status ApiServer::start(const std::string& address, uint16_t port, unsigned threads) {
  Impl& m = *impl_;
  m.started_ms = m.deps.clock();
  {
    std::lock_guard lock(m.tokens_mu);
    m.reload_tokens_if_changed();
  }
  m.access_log = std::fopen((m.deps.config.data_dir + "/access.log").c_str(), "a");
  if (m.access_log == nullptr) return make_error(Errc::io, "cannot open access.log");

  m.server = std::make_unique<restinio::http_server_t<traits_t>>(
      restinio::external_io_context(m.io),
      restinio::server_settings_t<traits_t>{}
          .address(address)
          .port(port)
          .request_handler([&m, router = std::shared_ptr<router_t>(m.make_router())](
                               req_t req) -> restinio::request_handling_status_t {
            // RESTinio's (a path or query it cannot decode) are the request's fault: 400.
            // Bodies are read without exceptions (parse_body, json_visit::from_json answer
            // 400/422 themselves), so anything else, a JSON exception included (out of memory,
            // a system error, a bug), is the node's: 500 and a log line, as docs/api.md says.
            auto answer = [&](int status, const char* code, const std::string& message) {
              try {
                m.respond_error(req, status, code, message);
              } catch (const std::exception&) {
                // Already answered: nothing more to say on this connection.
              }
              return restinio::request_accepted();
            };
            if (const size_t n = req->header().path().size(); n > limits::api_path_bytes_max)
              return answer(414, "limit_exceeded",
                            "the path is " + std::to_string(n) + " bytes; at most " +
                                std::to_string(limits::api_path_bytes_max) + " are read");
            try {
              return (*router)(req);
            } catch (const restinio::exception_t& e) {
              return answer(400, "bad_request",
                            std::string("the request is not understood: ") + e.what());
            } catch (const std::exception& e) {
              spdlog::error("api: {} {}: {}", std::string(req->header().method().c_str()),
                            std::string(req->header().request_target()), e.what());
              return answer(500, "internal", std::string("the node failed: ") + e.what());
            }
          })
          .acceptor_post_bind_hook([&m](restinio::asio_ns::ip::tcp::acceptor& a) {
            m.bound_port = a.local_endpoint().port();
          })
          .max_pipelined_requests(32)
          .incoming_http_msg_limits(
              restinio::incoming_http_msg_limits_t{}.max_body_size(transport_body_bytes_max))
          .read_next_http_message_timelimit(std::chrono::seconds(60))
          .handle_request_timeout(std::chrono::seconds(30)));
  std::promise<std::string> opened;
  m.server->open_async([&] { opened.set_value(""); },
                       [&](std::exception_ptr ex) {
                         try {
                           std::rethrow_exception(ex);
                         } catch (const std::exception& e) {
                           opened.set_value(e.what());
                         }
                       });
  for (unsigned i = 0; i < std::max(1u, threads); ++i) m.threads.emplace_back([&m] { m.io.run(); });
  const std::string err = opened.get_future().get();
  if (!err.empty()) {
    // Nothing is listening, so nothing is to close: the threads go first, or stop() would wait
    // on close_async for threads whose io.run() may already have returned for want of work (5 s).
    m.io.stop();
    for (auto& t : m.threads) t.join();
    m.threads.clear();
    stop();
    return make_error(Errc::io,
                      "cannot listen on " + address + ":" + std::to_string(port) + ": " + err);
  }
  return {};
}

uint16_t ApiServer::port() const { return impl_->bound_port; }

int ApiServer::wait_for_shutdown_signal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

void ApiServer::close_acceptor() {
  Impl& m = *impl_;
  if (!m.server || m.threads.empty()) return;
  std::promise<void> closed;
  m.server->close_async([&] { closed.set_value(); },
                        [&](std::exception_ptr) { closed.set_value(); });
  closed.get_future().wait_for(std::chrono::seconds(5));
  m.server.reset();
}

void ApiServer::stop() {
  Impl& m = *impl_;
  if (m.stopped) return;
  m.stopped = true;
  close_acceptor();
  // Answers already handed to RESTinio (the writer's, as the node stops) are written first, for
  // up to 5 s: the server threads are still running.
  for (int waited_ms = 0; *m.responses_in_flight > 0 && !m.threads.empty() && waited_ms < 5000;
       waited_ms += 5)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  m.io.stop();
  for (auto& t : m.threads)
    if (t.joinable()) t.join();
  m.threads.clear();
  if (m.access_log != nullptr) std::fclose(m.access_log);
  m.access_log = nullptr;
}

}  // namespace umupaka
