// Per-peer pass totals (peer_stats.h).
#include "sync/peer_stats.h"

#include <filesystem>
#include <optional>

#include "core/durable_file.h"
#include "core/json.h"

namespace ctihub::sync {

namespace {

constexpr size_t kMaxErrorText = 512;  // an error message kept in the file, at most

Status BadFile(const std::string& path, std::string_view why) {
  return InvalidArgument("bad_stats_file", path + ": " + std::string(why));
}

}  // namespace

std::string PeerStatsPath(const std::string& data_dir, std::string_view peer) {
  return (std::filesystem::path(data_dir) / "sync" / (std::string(peer) + ".stats")).string();
}

Result<PeerStats> LoadPeerStats(const std::string& data_dir, std::string_view peer) {
  const std::string path = PeerStatsPath(data_dir, peer);
  CTIHUB_ASSIGN_OR_RETURN(std::optional<std::string> text,
                          ReadFileIfPresent(path, "stats_read_failed"));
  PeerStats s;
  if (!text) return s;
  json::JsonParser parser;
  auto root = parser.Parse(*text);
  if (!root.ok()) return BadFile(path, "not JSON");
  const auto count = [&](const char* key, int64_t& out) {
    return (*root)[key].get_int64().get(out) == simdjson::SUCCESS && out >= 0;
  };
  const auto text_of = [&](const char* key, std::string& out) {
    std::string_view v;
    if ((*root)[key].get_string().get(v) != simdjson::SUCCESS) return false;
    out = std::string(v);
    return true;
  };
  if (!count("passes", s.passes) || !count("failed", s.failed) || !count("pulled", s.pulled) ||
      !count("stored", s.stored) || !count("refused", s.refused) || !count("pushed", s.pushed) ||
      !count("push_failed", s.push_failed) || !count("sightings_back", s.sightings_back) ||
      !text_of("last_pass", s.last_pass) || !text_of("last_success", s.last_success) ||
      !text_of("last_error", s.last_error) ||
      !count("witness_acknowledged_seq", s.witness_acknowledged_seq) ||
      !text_of("witness_acknowledged_at", s.witness_acknowledged_at) ||
      !count("witness_held_seq", s.witness_held_seq)) {
    return BadFile(path, "needs non-negative counts and the last_* texts");
  }
  return s;
}

Status RecordPass(const std::string& data_dir, std::string_view peer, const PassCounts& pass,
                  std::string_view ended) {
  CTIHUB_ASSIGN_OR_RETURN(PeerStats s, LoadPeerStats(data_dir, peer));
  ++s.passes;
  if (!pass.ok) ++s.failed;
  s.pulled += pass.pulled;
  s.stored += pass.stored;
  s.refused += pass.refused;
  s.pushed += pass.pushed;
  s.push_failed += pass.push_failed;
  s.sightings_back += pass.sightings_back;
  s.last_pass = std::string(ended);
  if (pass.ok) s.last_success = std::string(ended);
  s.last_error = pass.ok ? "" : pass.error.substr(0, kMaxErrorText);
  if (pass.witness_acknowledged_seq > 0) {
    s.witness_acknowledged_seq = pass.witness_acknowledged_seq;
    s.witness_acknowledged_at = std::string(ended);
  }
  if (pass.witness_held_seq > 0) s.witness_held_seq = pass.witness_held_seq;

  std::string text;
  json::JsonWriter w(text);
  w.BeginObject().Key("passes").Int(s.passes).Key("failed").Int(s.failed);
  w.Key("pulled").Int(s.pulled).Key("stored").Int(s.stored).Key("refused").Int(s.refused);
  w.Key("pushed").Int(s.pushed).Key("push_failed").Int(s.push_failed);
  w.Key("sightings_back").Int(s.sightings_back);
  w.Key("last_pass").String(s.last_pass).Key("last_success").String(s.last_success);
  w.Key("last_error").String(s.last_error);
  w.Key("witness_acknowledged_seq").Int(s.witness_acknowledged_seq);
  w.Key("witness_acknowledged_at").String(s.witness_acknowledged_at);
  w.Key("witness_held_seq").Int(s.witness_held_seq).EndObject();
  text += '\n';
  return WriteFileDurably(PeerStatsPath(data_dir, peer), text, "stats_write_failed");
}

}  // namespace ctihub::sync
