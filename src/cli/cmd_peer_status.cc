// Peer statuses for /metrics and `peer show` (peer_status.h).
#include <cstdio>
#include <string>
#include <vector>

#include "cli/peer_status.h"
#include "core/json.h"
#include "sync/cursor.h"

namespace ctihub::cli {

namespace {

PeerStatus StatusOf(const std::string& data, const Peer& p, Timestamp now) {
  PeerStatus s;
  s.peer = p;
  auto stats = sync::LoadPeerStats(data, p.name);
  if (stats.ok())
    s.stats = std::move(*stats);
  else
    s.stats_error = stats.status().NamedMessage();
  if (p.direction == "push") return s;
  auto cursor = sync::PullCursor::Load(data, p.name, p.url, p.collection);
  if (!cursor.ok()) {
    if (s.stats_error.empty()) s.stats_error = cursor.status().NamedMessage();
    return s;
  }
  s.pulled_until = cursor->added_after();
  if (auto until = Timestamp::Parse(s.pulled_until); until.ok())
    s.lag_s = static_cast<double>(now.micros() - until->micros()) / 1e6;
  return s;
}

// Seconds since the epoch of an RFC 3339 text; nullopt when empty or bad.
std::optional<double> EpochSeconds(const std::string& text) {
  auto t = Timestamp::Parse(text);
  if (!t.ok()) return std::nullopt;
  return static_cast<double>(t->micros()) / 1e6;
}

std::string Number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f", v);
  return buf;
}

struct Family {
  const char* name;
  const char* type;
  const char* help;
};

void AppendFamily(std::string& out, const Family& f, const std::vector<PeerStatus>& peers,
                  const auto& value_of) {
  std::string samples;
  for (const PeerStatus& s : peers) {
    std::optional<std::string> v = value_of(s);
    // Peer names are [a-z0-9_-] (cmd_peer.cc): nothing in a label to escape.
    if (v) samples += std::string(f.name) + "{peer=\"" + s.peer.name + "\"} " + *v + "\n";
  }
  if (samples.empty()) return;
  out += std::string("# HELP ") + f.name + " " + f.help + "\n";
  out += std::string("# TYPE ") + f.name + " " + f.type + "\n" + samples;
}

std::optional<std::string> Count(int64_t n) { return std::to_string(n); }

}  // namespace

Result<std::vector<PeerStatus>> PeerStatuses(const std::string& data, Timestamp now) {
  CTIHUB_ASSIGN_OR_RETURN(std::vector<Peer> peers, LoadPeers(data));
  std::vector<PeerStatus> out;
  out.reserve(peers.size());
  for (const Peer& p : peers) out.push_back(StatusOf(data, p, now));
  return out;
}

std::string PeerMetricsText(const std::vector<PeerStatus>& peers) {
  std::string out;
  AppendFamily(out,
               {"ctihub_peer_last_pass_ok", "gauge",
                "1 when the peer's latest exchange pass succeeded, 0 when it failed"},
               peers, [](const PeerStatus& s) -> std::optional<std::string> {
                 if (s.stats.passes == 0) return std::nullopt;
                 return s.stats.last_error.empty() ? "1" : "0";
               });
  AppendFamily(out,
               {"ctihub_peer_last_success_timestamp_seconds", "gauge",
                "End of the peer's latest successful pass (Unix time)"},
               peers, [](const PeerStatus& s) -> std::optional<std::string> {
                 auto t = EpochSeconds(s.stats.last_success);
                 return t ? std::optional<std::string>(Number(*t)) : std::nullopt;
               });
  AppendFamily(
      out,
      {"ctihub_peer_lag_seconds", "gauge", "Now minus the newest date_added pulled from the peer"},
      peers, [](const PeerStatus& s) -> std::optional<std::string> {
        return s.lag_s ? std::optional<std::string>(Number(*s.lag_s)) : std::nullopt;
      });
  const auto counter = [&](const char* name, const char* help, auto field) {
    AppendFamily(out, {name, "counter", help}, peers,
                 [field](const PeerStatus& s) { return Count(s.stats.*field); });
  };
  counter("ctihub_peer_passes_total", "Exchange passes run with the peer",
          &sync::PeerStats::passes);
  counter("ctihub_peer_errors_total", "Exchange passes with the peer that failed",
          &sync::PeerStats::failed);
  counter("ctihub_peer_objects_pulled_total", "Objects received from the peer",
          &sync::PeerStats::pulled);
  counter("ctihub_peer_objects_stored_total", "New versions stored from the peer's objects",
          &sync::PeerStats::stored);
  counter("ctihub_peer_objects_refused_total", "Objects from the peer refused (with reasons)",
          &sync::PeerStats::refused);
  counter("ctihub_peer_objects_pushed_total", "Versions pushed that the peer reported stored",
          &sync::PeerStats::pushed);
  counter("ctihub_peer_push_failed_total", "Versions the peer refused or too large to send",
          &sync::PeerStats::push_failed);
  counter("ctihub_peer_sightings_back_total",
          "Sightings sent back to a pull-only peer that it reported stored",
          &sync::PeerStats::sightings_back);
  AppendFamily(out,
               {"ctihub_peer_witness_acknowledged_seq", "gauge",
                "The newest record of this hub's audit trail the peer holds as a witness"},
               peers, [](const PeerStatus& s) -> std::optional<std::string> {
                 if (s.stats.witness_acknowledged_seq == 0) return std::nullopt;
                 return std::to_string(s.stats.witness_acknowledged_seq);
               });
  AppendFamily(out,
               {"ctihub_peer_stats_unreadable", "gauge",
                "1 when the peer's totals or cursor file cannot be read"},
               peers, [](const PeerStatus& s) -> std::optional<std::string> {
                 if (s.stats_error.empty()) return std::nullopt;
                 return "1";
               });
  return out;
}

std::string PeersJson(const std::vector<PeerStatus>& peers) {
  std::string out;
  json::JsonWriter w(out);
  w.BeginObject().Key("peers").BeginArray();
  for (const PeerStatus& s : peers) {
    const sync::PeerStats& t = s.stats;
    const auto time_or_null = [&](const char* key, bool applies) {
      w.Key(key);
      if (applies && !t.last_success.empty())
        w.String(t.last_success);
      else
        w.Null();
    };
    w.BeginObject().Key("name").String(s.peer.name).Key("url").String(s.peer.url);
    w.Key("direction").String(s.peer.direction).Key("org").String(s.peer.org);
    w.Key("every").String(s.peer.every);
    time_or_null("last_pull", s.peer.direction != "push");
    time_or_null("last_push", s.peer.direction != "pull");
    w.Key("lag_s");
    if (s.lag_s)
      w.Double(*s.lag_s);
    else
      w.Null();
    w.Key("passes").Int(t.passes).Key("failed").Int(t.failed);
    w.Key("last_error").String(t.last_error).Key("pulled").Int(t.pulled);
    w.Key("stored").Int(t.stored).Key("refused").Int(t.refused).Key("pushed").Int(t.pushed);
    w.Key("push_failed").Int(t.push_failed).Key("sightings_back").Int(t.sightings_back);
    w.Key("witness_acknowledged_seq").Int(t.witness_acknowledged_seq);
    if (!s.stats_error.empty()) w.Key("status_error").String(s.stats_error);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return out;
}

}  // namespace ctihub::cli
