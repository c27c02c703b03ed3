// The floor of `ctihub match` on Zeek JSON logs (bench/match/run.sh): a
// simdjson-only pass that reads the file in chunks, parses every line and
// pulls the fields the matcher's Zeek map reads (addresses, dns query and
// answers, http host/uri, ssl server_name, file hashes, x509 fingerprint),
// without normalising or looking anything up. Prints lines, bytes, seconds.
//
// The pass uses simdjson's On-Demand API, the fastest way simdjson offers to
// pull a few fields (it skips the DOM's tape of every value), as the matcher's
// Zeek JSON reader does; --dom times the DOM parse instead (the floor until
// 2026-12-08; the ratio against it flattered the matcher once its reader
// stopped building the DOM).
//
// usage: match_floor FILE [--dom]
#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

namespace {

// The Zeek map's keys, found by length first: the floor must not spend its
// time on key comparisons the matcher does not make either (a linear search
// of the 20 keys was nearly as costly as the parse; see PERFORMANCE.md).
bool Wanted(std::string_view k) {
  switch (k.size()) {
    case 2:
      return k == "ts";
    case 3:
      return k == "uri" || k == "md5";
    case 4:
      return k == "host" || k == "sha1";
    case 5:
      return k == "_path" || k == "query";
    case 6:
      return k == "sha256" || k == "san.ip";
    case 7:
      return k == "answers" || k == "san.dns" || k == "@stream";
    case 8:
      return k == "referrer";
    case 9:
      return k == "id.orig_h" || k == "id.resp_h" || k == "id_orig_h" || k == "id_resp_h";
    case 11:
      return k == "server_name" || k == "fingerprint";
    case 14:
      return k == "cert_chain_fps";
    default:
      return false;
  }
}

size_t Pull(simdjson::dom::element v) {
  std::string_view s;
  if (v.get_string().get(s) == simdjson::SUCCESS) return s.size();
  size_t n = 0;
  simdjson::dom::array arr;
  if (v.get_array().get(arr) == simdjson::SUCCESS)
    for (auto x : arr)
      if (x.get_string().get(s) == simdjson::SUCCESS) n += s.size();
  double d;
  if (v.get_double().get(d) == simdjson::SUCCESS) n += d > 0 ? 1 : 0;
  return n;
}

size_t PullOnDemand(simdjson::ondemand::value v) {
  simdjson::ondemand::json_type type;
  if (v.type().get(type) != simdjson::SUCCESS) return 0;
  std::string_view s;
  size_t n = 0;
  switch (type) {
    case simdjson::ondemand::json_type::string:
      if (v.get_string().get(s) == simdjson::SUCCESS) n = s.size();
      break;
    case simdjson::ondemand::json_type::array: {
      simdjson::ondemand::array arr;
      if (v.get_array().get(arr) != simdjson::SUCCESS) break;
      for (auto x : arr)
        if (x.get_string().get(s) == simdjson::SUCCESS) n += s.size();
      break;
    }
    case simdjson::ondemand::json_type::number: {
      double d;
      if (v.get_double().get(d) == simdjson::SUCCESS) n = d > 0 ? 1 : 0;
      break;
    }
    default:
      break;
  }
  return n;
}

// The wanted fields' sizes of one line; false for a line simdjson refuses.
bool PullLine(simdjson::dom::parser& dom, std::string_view line, long long* pulled) {
  simdjson::dom::object o;
  if (dom.parse(line.data(), line.size(), true).get_object().get(o) != simdjson::SUCCESS)
    return false;
  for (auto field : o)
    if (Wanted(field.key)) *pulled += static_cast<long long>(Pull(field.value));
  return true;
}

// REQUIRES: SIMDJSON_PADDING readable bytes after the line.
bool PullLine(simdjson::ondemand::parser& od, std::string_view line, long long* pulled) {
  simdjson::ondemand::document doc;
  simdjson::ondemand::object o;
  if (od.iterate(line.data(), line.size(), line.size() + simdjson::SIMDJSON_PADDING).get(doc) !=
          simdjson::SUCCESS ||
      doc.get_object().get(o) != simdjson::SUCCESS)
    return false;
  for (auto field : o) {
    std::string_view k;
    if (field.unescaped_key().get(k) != simdjson::SUCCESS) return false;
    if (Wanted(k)) *pulled += static_cast<long long>(PullOnDemand(field.value()));
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const bool use_dom = argc == 3 && std::strcmp(argv[2], "--dom") == 0;
  if (argc != 2 && !use_dom) {
    std::fprintf(stderr, "usage: match_floor FILE [--dom]\n");
    return 2;
  }
  std::FILE* f = std::fopen(argv[1], "rb");
  if (f == nullptr) {
    std::perror(argv[1]);
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  simdjson::dom::parser dom;
  simdjson::ondemand::parser od;
  // The last SIMDJSON_PADDING bytes are never filled: every line has its padding.
  std::string buf(1u << 20, '\0');
  size_t pos = 0, end = 0;
  long long lines = 0, bytes = 0, pulled = 0, bad = 0;
  for (bool eof = false;;) {
    const char* nl = static_cast<const char*>(std::memchr(buf.data() + pos, '\n', end - pos));
    if (nl == nullptr) {
      if (eof) break;
      std::memmove(buf.data(), buf.data() + pos, end - pos);
      end -= pos;
      pos = 0;
      if (buf.size() - end < (1u << 19)) buf.resize(buf.size() * 2);
      size_t n = std::fread(buf.data() + end, 1, buf.size() - end - simdjson::SIMDJSON_PADDING, f);
      end += n;
      eof = n == 0;
      continue;
    }
    std::string_view line(buf.data() + pos, static_cast<size_t>(nl - (buf.data() + pos)));
    pos += line.size() + 1;
    ++lines;
    bytes += static_cast<long long>(line.size()) + 1;
    if (!(use_dom ? PullLine(dom, line, &pulled) : PullLine(od, line, &pulled))) ++bad;
  }
  std::fclose(f);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "floor (%s): %lld lines, %lld bytes, %lld bad, %lld field bytes, %.3f s, %.0f lines/s\n",
      use_dom ? "dom" : "on-demand", lines, bytes, bad, pulled, secs,
      static_cast<double>(lines) / secs);
  return 0;
}
