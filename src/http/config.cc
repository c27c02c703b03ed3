#include "http/config.h"

#include <toml++/toml.h>

#include <charconv>

namespace ctihub::http {

Status LoadServeConfig(const std::string& path, ServeConfig& cfg) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return InvalidArgument("config " + path + ":" + std::to_string(where.line) + ":" +
                           std::to_string(where.column) + ": " + std::string(e.description()));
  } catch (const std::exception& e) {
    return InvalidArgument("config " + path + ": " + e.what());
  }
  Status st;
  auto str = [&](const toml::node& n, std::string_view key, std::string& out) {
    if (auto v = n.value<std::string>()) {
      out = *v;
    } else {
      st = InvalidArgument("config " + path + ": " + std::string(key) + " must be a string");
    }
  };
  auto num = [&](const toml::node& n, std::string_view key, int64_t& out) {
    if (auto v = n.value<int64_t>(); v && *v >= 0) {
      out = *v;
    } else {
      st = InvalidArgument("config " + path + ": " + std::string(key) +
                           " must be a non-negative integer");
    }
  };
  auto boolean = [&](const toml::node& n, std::string_view key, bool& out) {
    if (auto v = n.value<bool>()) {
      out = *v;
    } else {
      st = InvalidArgument("config " + path + ": " + std::string(key) + " must be true or false");
    }
  };
  for (const auto& [k, node] : t) {
    std::string_view key = k.str();
    if (key == "data")
      str(node, key, cfg.data);
    else if (key == "db")
      str(node, key, cfg.db);
    else if (key == "listen")
      str(node, key, cfg.listen);
    else if (key == "tls_cert")
      str(node, key, cfg.tls_cert);
    else if (key == "tls_key")
      str(node, key, cfg.tls_key);
    else if (key == "insecure_http")
      boolean(node, key, cfg.insecure_http);
    else if (key == "threads")
      num(node, key, cfg.threads);
    else if (key == "max_connections")
      num(node, key, cfg.max_connections);
    else if (key == "body_limit")
      num(node, key, cfg.body_limit);
    else if (key == "header_limit")
      num(node, key, cfg.header_limit);
    else if (key == "header_timeout_ms")
      num(node, key, cfg.header_timeout_ms);
    else if (key == "idle_timeout_ms")
      num(node, key, cfg.idle_timeout_ms);
    else if (key == "request_timeout_ms")
      num(node, key, cfg.request_timeout_ms);
    else if (key == "max_objects_per_envelope")
      num(node, key, cfg.max_objects_per_envelope);
    else if (key == "page_size")
      num(node, key, cfg.page_size);
    else if (key == "max_page_size")
      num(node, key, cfg.max_page_size);
    else if (key == "title")
      str(node, key, cfg.title);
    else if (key == "description")
      str(node, key, cfg.description);
    else if (key == "contact")
      str(node, key, cfg.contact);
    else if (key == "access_log")
      boolean(node, key, cfg.access_log);
    else if (key == "public_health")
      boolean(node, key, cfg.public_health);
    else if (key == "public_metrics")
      boolean(node, key, cfg.public_metrics);
    else if (key == "no_ui")
      boolean(node, key, cfg.no_ui);
    else if (key == "session_idle")
      num(node, key, cfg.session_idle);
    else if (key == "session_max")
      num(node, key, cfg.session_max);
    else if (key == "audit_crosscheck_ms")
      num(node, key, cfg.audit_crosscheck_ms);
    else
      st = InvalidArgument("config " + path + ": unknown key '" + std::string(key) + "'");
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

namespace {

Status CheckRange(std::string_view name, int64_t value, int64_t lo, int64_t hi) {
  if (value >= lo && value <= hi) return Status::Ok();
  return InvalidArgument(std::string(name) + " must be between " + std::to_string(lo) + " and " +
                         std::to_string(hi) + " (got " + std::to_string(value) + ")");
}

}  // namespace

Status CheckServeConfig(const ServeConfig& cfg) {
  // threads = 0 means one per core.
  if (Status st = CheckRange("threads", cfg.threads, 0, kMaxServeThreads); !st.ok()) return st;
  // A console session lives at most 30 days; its idle expiry is within that.
  if (Status st = CheckRange("session_max", cfg.session_max, 1, int64_t{30} * 86400); !st.ok())
    return st;
  if (Status st = CheckRange("session_idle", cfg.session_idle, 1, cfg.session_max); !st.ok()) {
    return st;
  }
  if (Status st = CheckRange("audit_crosscheck_ms", cfg.audit_crosscheck_ms, 100, 86400000);
      !st.ok())
    return st;
  return CheckRange("max_connections", cfg.max_connections, 1, kMaxServeConnections);
}

Result<std::pair<std::string, uint16_t>> SplitHostPort(std::string_view listen) {
  std::string_view host, port;
  if (!listen.empty() && listen.front() == '[') {
    size_t close = listen.find(']');
    if (close == std::string_view::npos || close + 1 >= listen.size() || listen[close + 1] != ':') {
      return InvalidArgument("listen address must be [v6]:PORT");
    }
    host = listen.substr(1, close - 1);
    port = listen.substr(close + 2);
  } else {
    size_t colon = listen.rfind(':');
    if (colon == std::string_view::npos) return InvalidArgument("listen address must be HOST:PORT");
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
  }
  if (host.empty()) return InvalidArgument("listen address has no host");
  unsigned p = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc() || ptr != port.data() + port.size() || p > 65535) {
    return InvalidArgument("listen port must be 0..65535");
  }
  return std::make_pair(std::string(host), static_cast<uint16_t>(p));
}

bool IsLoopbackHost(std::string_view host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

}  // namespace ctihub::http
