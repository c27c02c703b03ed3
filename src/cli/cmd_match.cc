// `ctihub match`: runs STIX indicators over sensor logs (src/matcher). The
// indicators come from a STIX bundle file (streamed), from a collection of
// the local hub read as a user through the taxii read gate (the one policy
// decision), or from a remote TAXII 2.1 collection (src/taxii_client). Inputs
// are log files (.gz read transparently) or stdin, or one plain file followed
// as it grows (--follow: polled, through rotation and truncation). Output: one
// JSON line per (event, indicator) hit; optionally STIX sightings, written to
// a file and/or to a collection through the import write path (while
// following: every --sightings-every seconds, as new versions of the same
// sightings).
// Exit 0 some hit, 1 no hit, 2 error (indicators or an input unreadable).
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "audit/audit.h"
#include "auth/auth.h"
#include "cli/commands.h"
#include "cli/hub_context.h"
#include "cli/import_sink.h"
#include "cli/remote_client.h"
#include "core/json.h"
#include "core/timestamp.h"
#include "core/utf8.h"
#include "core/uuid.h"
#include "formats/input.h"
#include "matcher/index.h"
#include "matcher/readers.h"
#include "policy/policy_holder.h"
#include "stix/bundle_reader.h"
#include "stix/parse.h"
#include "taxii/access.h"
#include "taxii_client/client.h"

namespace ctihub::cli {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kCollectionPrefix = "collection:";
constexpr std::string_view kTaxiiPrefix = "taxii:";
constexpr size_t kMaxListedMalformed = 10;  // all are counted; this many are reported
constexpr size_t kMaxListedRefused = 10;    // indicators whose pattern does not compile
constexpr size_t kReadChunk = 1u << 20;
constexpr size_t kStorePage = 1000;
constexpr int64_t kMaxSightingCount = 999999999;  // STIX 2.1 sighting count maximum
constexpr double kDefaultSightingsEvery = 60;     // --sightings-every (seconds)

struct MatchArgs {
  std::string data = kDefaultDataDir;
  std::string db;  // --db postgresql://... (else DATA/ctihub.db)
  std::string indicators;
  std::string root;
  std::string as_user;
  std::vector<std::string> inputs;
  std::string format;
  std::vector<std::string> maps;
  std::string output;
  std::string sightings;
  bool report = false;
  std::string report_collection;
  bool ignore_validity = false;
  bool quiet = false;
  int threads = 1;
  // taxii:URL
  RemoteConnection remote;  // credentials and TLS (the options of `ctihub remote`)
  std::string collection;   // the remote collection id when URL is not a collection URL
  double taxii_timeout_s = 300;
  int64_t taxii_limit = 0;  // page size asked of the server (0: its default)
  int64_t taxii_max_pages = 100'000;
  // --follow
  bool follow = false;
  double follow_timeout_s = 0;
  double follow_idle_s = 0;
  double sightings_every_s = -1;  // --follow: periodic sightings (-1: not given, the default)
};

int Fail(const std::string& msg) {
  std::fprintf(stderr, "ctihub match: %s\n", msg.c_str());
  return kExitError;
}

// ---- indicators ------------------------------------------------------------------

struct IndicatorSet {
  std::vector<matcher::IndicatorInput> list;
  int64_t objects = 0;               // objects read from the source
  int64_t revoked = 0;               // indicators left out: revoked
  int64_t not_stix = 0;              // indicators left out: pattern_type other than stix
  int64_t malformed = 0;             // indicators left out: id or pattern missing
  int64_t superseded = 0;            // older versions of an indicator given twice
  int64_t pages = 0;                 // TAXII pages read (taxii:URL)
  std::vector<std::string> samples;  // why some were left out
  std::unordered_map<std::string, std::pair<int64_t, size_t>> latest;  // id -> (modified, index)
};

int64_t TimeOr(json::Object& o, const char* key, int64_t fallback) {
  std::string_view text;
  if (o[key].get_string().get(text) != simdjson::SUCCESS) return fallback;
  auto t = Timestamp::Parse(text);
  return t.ok() ? t->micros() : fallback;
}

// Adds one STIX object when it is a usable indicator (the latest version of
// each id wins); other objects are ignored.
void AddIndicatorObject(json::Element el, const std::string& where, IndicatorSet* set) {
  ++set->objects;
  json::Object o;
  if (el.get_object().get(o) != simdjson::SUCCESS) return;
  std::string_view type, id, pattern, pattern_type = "stix";
  if (o["type"].get_string().get(type) != simdjson::SUCCESS || type != "indicator") return;
  if (o["id"].get_string().get(id) != simdjson::SUCCESS ||
      o["pattern"].get_string().get(pattern) != simdjson::SUCCESS) {
    ++set->malformed;
    if (set->samples.size() < kMaxListedRefused)
      set->samples.push_back(where + ": indicator without id or pattern");
    return;
  }
  if (o["pattern_type"].get_string().get(pattern_type) != simdjson::SUCCESS) pattern_type = "stix";
  if (pattern_type != "stix") {
    ++set->not_stix;
    return;
  }
  bool revoked = false;
  if (o["revoked"].get_bool().get(revoked) != simdjson::SUCCESS) revoked = false;
  const int64_t modified = TimeOr(o, "modified", std::numeric_limits<int64_t>::min());
  auto [it, fresh] = set->latest.try_emplace(std::string(id), modified, set->list.size());
  if (!fresh) {
    ++set->superseded;
    if (it->second.first > modified) return;
    it->second.first = modified;
  }
  matcher::IndicatorInput in;
  in.id = std::string(id);
  in.pattern = std::string(pattern);
  in.valid_from_us = TimeOr(o, "valid_from", std::numeric_limits<int64_t>::min());
  in.valid_until_us = TimeOr(o, "valid_until", std::numeric_limits<int64_t>::max());
  if (revoked) {
    // Withdrawn by its producer: never matches. The slot stays so a later,
    // unrevoked version of the same id can still take it.
    ++set->revoked;
    in.pattern.clear();
  }
  if (fresh) {
    set->list.push_back(std::move(in));
  } else {
    set->list[it->second.second] = std::move(in);
  }
}

// A STIX bundle, array or object file (or .gz), streamed.
Status LoadBundleFile(const std::string& path, IndicatorSet* set) {
  auto opened = formats::Input::Open(path);
  if (!opened.ok()) return InvalidArgument(path + ": " + opened.status().NamedMessage());
  std::unique_ptr<formats::Input> in = std::move(*opened);
  std::FILE* f = in->file();
  if (f == nullptr) return Internal("cannot stream " + path);
  stix::BundleReader reader(f);
  json::JsonParser parser;
  for (int64_t n = 1;; ++n) {
    int64_t offset = 0;
    auto text = reader.Next(&offset);
    if (!text.ok()) return InvalidArgument(path + ": " + text.status().NamedMessage());
    if (text->empty()) break;
    auto el = stix::ParseObject(parser, *text, offset);
    if (!el.ok()) {
      auto pos = reader.PositionOf(offset);
      return InvalidArgument(path + ":" + std::to_string(pos.line) + ":" +
                             std::to_string(pos.column) + ": object " + std::to_string(n) + ": " +
                             el.status().NamedMessage());
    }
    AddIndicatorObject(*el, path + ": object " + std::to_string(n), set);
  }
  if (std::ferror(f)) return InvalidArgument(path + ": read error: " + in->error());
  return Status::Ok();
}

// Who reads a collection: --as-user, else the local administrator (an admin
// of no organisation: the policy gives it what any authenticated reader
// without an organisation may read).
Result<auth::Principal> MatchReader(store::Store& hub, const std::string& as_user) {
  auth::Principal p;
  if (as_user.empty()) {
    p.user = audit::LocalActor();
    p.role = store::Role::kAdmin;
    return p;
  }
  auto user = hub.GetUser(as_user);
  if (!user.ok()) return NotFound("--as-user " + as_user + ": " + user.status().NamedMessage());
  if (user->disabled) return Forbidden("--as-user " + as_user + ": the user is disabled");
  p.user_id = user->id;
  p.user = user->name;
  p.org_id = user->org_id;
  p.org = user->org_name;
  p.role = user->role;
  return p;
}

// The hub, its policy and the reader, opened once for reading and reporting.
struct HubSession {
  std::unique_ptr<store::Store> store;
  std::unique_ptr<audit::AuditLog> trail;
  std::unique_ptr<policy::PolicyHolder> holder;
  std::shared_ptr<const policy::Policy> policy;
  auth::Principal principal;
  std::string identity;  // the reader's organisation identity ("" unknown)
};

Result<HubSession> OpenHub(const MatchArgs& a) {
  HubSession s;
  CTIHUB_ASSIGN_OR_RETURN(s.store, OpenHubStore(a.data, HubDb(a.db)));
  auto trail = audit::AuditLog::Open(a.data);
  if (!trail.ok()) return Internal("audit trail: " + trail.status().NamedMessage());
  s.trail = std::move(*trail);
  CTIHUB_ASSIGN_OR_RETURN(std::vector<policy::KnownOrg> known, KnownOrganisations(*s.store));
  auto holder = policy::PolicyHolder::Open(
      HubPolicySource(a.data, s.store.get()), std::chrono::milliseconds(0),
      [known] { return Result<std::vector<policy::KnownOrg>>(known); });
  if (!holder.ok()) return InvalidArgument("sharing policy: " + holder.status().NamedMessage());
  s.holder = std::move(*holder);
  s.policy = s.holder->Current();
  CTIHUB_ASSIGN_OR_RETURN(s.principal, MatchReader(*s.store, a.as_user));
  s.identity = taxii::WriterIdentity(s.policy.get(), s.principal);
  return s;
}

// The indicators of a collection that the reader may read: the collection's
// ACL, then every row through the read gate (the policy decision); what was
// served is recorded in the audit trail like a TAXII read.
Status LoadCollection(HubSession& hub, const MatchArgs& a, std::string_view name,
                      IndicatorSet* set) {
  auto collection = hub.store->GetCollection(a.root, name);
  if (!collection.ok())
    return NotFound("collection " + std::string(name) + ": " + collection.status().NamedMessage());
  if (!auth::CanRead(hub.principal, *collection)) {
    return Forbidden("collection " + std::string(name) + ": " +
                     (hub.principal.user.empty() ? "the reader" : hub.principal.user) +
                     " may not read it");
  }
  taxii::ReadGate gate(hub.policy, hub.principal, *collection);
  store::ObjectQuery q;
  q.collection_id = collection->id;
  q.types = {"indicator"};
  q.limit = kStorePage;
  gate.Apply(q);
  json::JsonParser parser;
  for (;;) {
    CTIHUB_ASSIGN_OR_RETURN(store::ObjectPage page, hub.store->QueryObjects(q));
    std::vector<audit::ObjectRef> served;
    for (const store::ObjectVersion& v : page.objects) {
      const taxii::ServedGrant* grant = gate.GrantOf(v);
      served.emplace_back(v.id, v.version.ToString(), grant ? std::string(grant->via) : "",
                          grant && grant->redacted);
      auto el = parser.Parse(v.json);
      if (el.ok()) AddIndicatorObject(*el, "collection " + collection->id + ": " + v.id, set);
    }
    if (!served.empty()) {
      audit::Record rec;
      rec.user = hub.principal.user;
      rec.org = hub.principal.org;
      rec.action = std::string(audit::action::kObjectServed);
      rec.route = "cli match " + collection->id;
      rec.objects = std::move(served);
      CTIHUB_RETURN_IF_ERROR(hub.trail->Append(std::move(rec)));
    }
    if (!page.more) break;
    q.next = page.next;
  }
  return hub.trail->Flush();
}

// The API root (or discovery) URL and the collection id a taxii: source names:
// a collection URL (.../collections/ID/) carries its id, any other URL needs
// --collection.
struct TaxiiSource {
  std::string base;
  std::string collection;
};

Result<TaxiiSource> ParseTaxiiSource(std::string_view text, const std::string& collection) {
  CTIHUB_ASSIGN_OR_RETURN(taxii_client::Url url, taxii_client::ParseUrl(text));
  constexpr std::string_view kCollections = "/collections/";
  const size_t at = url.path.rfind(kCollections);
  if (at != std::string::npos) {
    std::string id = url.path.substr(at + kCollections.size());
    if (!id.empty() && id.back() == '/') id.pop_back();
    if (!id.empty() && id.find('/') == std::string::npos) {
      if (!collection.empty() && collection != id) {
        return InvalidArgument("taxii_collection_conflict",
                               "the URL names collection " + id + ", --collection " + collection);
      }
      url.path.resize(at + 1);
      url.query.clear();
      return TaxiiSource{url.ToString(), std::move(id)};
    }
  }
  if (collection.empty()) {
    return InvalidArgument("taxii_no_collection",
                           "give a collection URL (API_ROOT/collections/ID/) or --collection ID");
  }
  return TaxiiSource{url.ToString(), collection};
}

// The indicators of a remote TAXII 2.1 collection, paged through with the
// one TAXII client (match[type]=indicator on every request; `next` followed,
// bounded by --taxii-max-pages and --taxii-timeout). What the server sends is
// untrusted: an object that does not parse is counted as malformed.
Status LoadTaxii(const MatchArgs& a, std::string_view url_text, IndicatorSet* set) {
  CTIHUB_ASSIGN_OR_RETURN(TaxiiSource src, ParseTaxiiSource(url_text, a.collection));
  RemoteConnection c = a.remote;
  c.timeout_s = a.taxii_timeout_s;
  c.request_timeout_s = std::min(c.request_timeout_s, a.taxii_timeout_s);
  c.max_pages = a.taxii_max_pages;
  CTIHUB_ASSIGN_OR_RETURN(taxii_client::ClientOptions options,
                          RemoteClientOptions(c, "ctihub match"));
  CTIHUB_ASSIGN_OR_RETURN(std::unique_ptr<taxii_client::Client> client,
                          taxii_client::Client::Create(src.base, std::move(options)));
  CTIHUB_ASSIGN_OR_RETURN(taxii_client::ApiRoot root, client->ResolveApiRoot());
  taxii_client::PageQuery q;
  q.limit = a.taxii_limit;
  q.filters.emplace_back("match[type]", "indicator");
  json::JsonParser parser;
  const std::string where = "collection " + src.collection;
  auto summary =
      client->GetObjects(root.url, src.collection, q, [&](const taxii_client::ObjectsPage& page) {
        for (const taxii_client::PageObject& o : page.objects) {
          auto el = parser.Parse(o.text);
          if (!el.ok()) {
            ++set->objects;
            ++set->malformed;
            if (set->samples.size() < kMaxListedRefused)
              set->samples.push_back(
                  where + ": an object that does not parse: " + el.status().NamedMessage());
            continue;
          }
          AddIndicatorObject(*el, where + ": " + o.id, set);
        }
        return Status::Ok();
      });
  if (!summary.ok()) return summary.status();
  set->pages = summary->pages;
  return Status::Ok();
}

// ---- reading lines ---------------------------------------------------------------

// Splits a stream into lines with bounded memory: a line longer than
// matcher::kMaxLineBytes is skipped up to its newline and reported as too long.
// Every line is followed by matcher::kLinePadding readable bytes of its buffer.
class LineSource {
 public:
  explicit LineSource(std::FILE* f) : f_(f) { buf_.resize(kReadChunk); }

  // False at the end of the input. *too_long: the line was over the limit
  // (its text is not returned). Following (SetFollow(true)): false when no
  // complete line is there yet; a last line without its newline stays
  // buffered, and a later call reads what was appended since.
  bool Next(std::string_view* line, bool* too_long) {
    *too_long = false;
    for (;;) {
      const char* nl = static_cast<const char*>(std::memchr(buf_.data() + pos_, '\n', end_ - pos_));
      if (nl != nullptr) {
        size_t len = static_cast<size_t>(nl - (buf_.data() + pos_));
        *line = std::string_view(buf_.data() + pos_, len);
        pos_ += len + 1;
        consumed_ += static_cast<int64_t>(len) + 1;
        if (skipping_) {
          skipping_ = false;
          *too_long = true;
          *line = {};
        }
        return true;
      }
      if (skipping_ || end_ - pos_ > matcher::kMaxLineBytes) {
        skipping_ = true;  // drop what is buffered, keep looking for the newline
        consumed_ += static_cast<int64_t>(end_ - pos_);
        pos_ = end_ = 0;
      }
      if (eof_) {
        if (pos_ == end_ && !skipping_) return false;
        *line = skipping_ ? std::string_view() : std::string_view(buf_.data() + pos_, end_ - pos_);
        *too_long = skipping_;
        skipping_ = false;
        consumed_ += static_cast<int64_t>(end_ - pos_);
        pos_ = end_;
        return true;
      }
      Fill();
      if (starved_) {
        starved_ = false;
        return false;
      }
    }
  }

  // Following: at the end, wait for more instead of taking a last line
  // without its newline. SetFollow(false) reads the rest to the real end.
  void SetFollow(bool follow) { follow_ = follow; }

  // Bytes of the input behind the lines returned so far (newlines included).
  int64_t consumed() const { return consumed_; }

 private:
  void Fill() {
    if (pos_ > 0) {
      std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
      end_ -= pos_;
      pos_ = 0;
    }
    if (buf_.size() - end_ < kReadChunk / 2) buf_.resize(buf_.size() + kReadChunk);
    // The last kLinePadding bytes stay unread: every line has the padding
    // LineReader::set_padded_lines promises.
    size_t n = std::fread(buf_.data() + end_, 1, buf_.size() - end_ - matcher::kLinePadding, f_);
    end_ += n;
    if (n > 0) return;
    if (follow_ && !std::ferror(f_)) {
      std::clearerr(f_);  // the next read sees what was appended
      starved_ = true;
    } else {
      eof_ = true;
    }
  }

  std::FILE* f_;
  std::string buf_;
  size_t pos_ = 0;
  size_t end_ = 0;
  int64_t consumed_ = 0;
  bool eof_ = false;
  bool skipping_ = false;
  bool follow_ = false;
  bool starved_ = false;
};

// ---- the run ---------------------------------------------------------------------

struct SightingTally {
  int64_t count = 0;
  int64_t first_us = std::numeric_limits<int64_t>::max();
  int64_t last_us = std::numeric_limits<int64_t>::min();
};

struct MalformedLine {
  std::string file;
  int64_t line = 0;
  std::string reason;
};

struct RunStats {
  int64_t events = 0;
  int64_t lines = 0;
  int64_t hits = 0;
  int64_t malformed = 0;
  int64_t bytes = 0;
  std::vector<MalformedLine> malformed_samples;
};

// What one reader reads: a whole input, or (threads) the lines that start
// in [begin, end) of a plain file. `format` empty: detected.
struct Unit {
  std::string path;
  std::string format;
  int64_t begin = 0;
  int64_t end = -1;  // -1: to the end of the input
};

// A hit kept for ordered output (threads); `line` is local to its unit.
struct StoredHit {
  uint32_t indicator = 0;
  uint32_t path = 0;
  std::string value;
  int64_t line = 0;
  std::string time;
};

// What a unit gave: merged in unit order, so output does not depend on threads.
struct UnitResult {
  Status status;
  RunStats stats;
  std::vector<StoredHit> hits;
  std::map<uint32_t, SightingTally> tallies;
};

// Appends one hit line (the output format) to *out.
void AppendHitLine(const matcher::IndicatorIndex& index, const matcher::PathRegistry& paths,
                   uint32_t indicator, uint32_t path, std::string_view value,
                   const std::string& file, int64_t line, const std::string& time,
                   std::string* out) {
  json::JsonWriter w(*out);
  w.BeginObject().Key("indicator_id").String(index.id(indicator));
  w.Key("pattern").String(ToValidUtf8(index.pattern(indicator)));
  w.Key("path").String(paths.info(path).text);
  w.Key("value").String(IsValidUtf8(value) ? std::string(value) : ToValidUtf8(value));
  w.Key("file").String(ToValidUtf8(file)).Key("line").Int(line);
  w.Key("time").String(time).EndObject();
  out->push_back('\n');
}

void Tally(std::map<uint32_t, SightingTally>* tallies, uint32_t indicator, bool has_time,
           int64_t time_us, int64_t count = 1) {
  SightingTally& t = (*tallies)[indicator];
  t.count += count;
  if (has_time) {
    t.first_us = std::min(t.first_us, time_us);
    t.last_us = std::max(t.last_us, time_us);
  }
}

// --follow: when to stop by itself (0: no such limit) and what happened.
struct FollowOptions {
  double timeout_s = 0;  // since the start
  double idle_s = 0;     // since the last line (or the start)
  // Periodic sightings: every `sightings_every_s` seconds (0: never) while
  // following, `on_sightings` gets the tallies so far.
  double sightings_every_s = 0;
  // Returns whether some sighting changed (and was emitted).
  std::function<bool(const std::map<uint32_t, SightingTally>&)> on_sightings;
};

struct FollowStats {
  int64_t reopened = 0;           // the file was replaced or shrank
  int64_t sightings_emitted = 0;  // periodic emissions with a change (not the one at the end)
  std::string stopped_by;
  double seconds = 0;
};

constexpr std::chrono::milliseconds kFollowPoll{200};

// Set by SIGINT/SIGTERM while following: the loop stops at its next poll.
volatile std::sig_atomic_t g_follow_stop = 0;

void OnFollowSignal(int /*signal*/) { g_follow_stop = 1; }

// Catches SIGINT and SIGTERM for its lifetime (without SA_RESTART, so a
// sleep ends early); the previous handlers come back after.
class FollowSignals {
 public:
  FollowSignals() {
    g_follow_stop = 0;
    struct sigaction sa {};
    sa.sa_handler = &OnFollowSignal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~FollowSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  FollowSignals(const FollowSignals&) = delete;
  FollowSignals& operator=(const FollowSignals&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

// Reads units with one Matcher (one stream). Hits go straight to `out`, or,
// without one, are kept for TakeResult. Not thread-safe: one per thread.
class MatchRun {
 public:
  MatchRun(const matcher::IndicatorIndex* index, const matcher::PathRegistry* paths,
           const std::vector<matcher::FieldMapping>* maps, std::FILE* out,
           matcher::MatchOptions opts)
      : index_(index), paths_(paths), maps_(maps), out_(out), matcher_(index, opts) {}

  // One unit to its end. An error when it could not be read at all.
  Status Read(const Unit& unit);
  // --follow: reads `path` (a plain file), then what is appended to it, until
  // a limit of `opts` or SIGINT/SIGTERM; flushes the hits after each batch of
  // lines. A file replaced (rotation) is read to its end and the new one from
  // its start; a file that shrank (truncation) is read again from its start.
  // An error when the file cannot be read or its format not detected.
  Status Follow(const std::string& path, const std::string& format, const FollowOptions& opts,
                FollowStats* fs);

  const RunStats& stats() const { return result_.stats; }
  const std::map<uint32_t, SightingTally>& tallies() const { return result_.tallies; }
  // The unit's results so far, and a fresh start.
  UnitResult TakeResult() { return std::exchange(result_, UnitResult()); }

 private:
  void Malformed(const std::string& file, int64_t line, std::string reason) {
    ++result_.stats.malformed;
    if (result_.stats.malformed_samples.size() < kMaxListedMalformed)
      result_.stats.malformed_samples.push_back({file, line, std::move(reason)});
  }
  void Emit(const std::string& file, int64_t line, const matcher::Event& event);
  // One line (line `n` of `path`) through `reader` and the matcher.
  void Line(std::string_view text, bool too_long, const std::string& path, int64_t n,
            matcher::LineReader& reader);
  void ReadLines(LineSource& lines, const std::string& path, int64_t start, int64_t end,
                 matcher::LineReader& reader);

  const matcher::IndicatorIndex* index_;
  const matcher::PathRegistry* paths_;
  const std::vector<matcher::FieldMapping>* maps_;
  std::FILE* out_;
  matcher::Matcher matcher_;
  std::vector<matcher::Hit> hits_;
  std::string line_out_;
  UnitResult result_;
  matcher::Event event_;
};

// The first non-blank line of what `in` starts with.
std::string_view FirstLine(formats::Input& in) {
  std::string_view head = in.Peek(size_t{64} * 1024);
  while (!head.empty()) {
    size_t nl = head.find('\n');
    std::string_view line = head.substr(0, nl);
    if (line.find_first_not_of(" \t\r") != std::string_view::npos) return line;
    if (nl == std::string_view::npos) break;
    head.remove_prefix(nl + 1);
  }
  return {};
}

// The format of an opened input: `given`, else detected ("" for an empty input).
Result<std::string> InputFormat(formats::Input& in, const std::string& given) {
  if (!given.empty()) return given;
  std::string_view first = FirstLine(in);
  if (first.empty()) return std::string();
  CTIHUB_ASSIGN_OR_RETURN(matcher::Format format, matcher::DetectFormat(first));
  return std::string(matcher::FormatName(format));
}

void MatchRun::Line(std::string_view text, bool too_long, const std::string& path, int64_t n,
                    matcher::LineReader& reader) {
  ++result_.stats.lines;
  result_.stats.bytes += static_cast<int64_t>(text.size()) + 1;
  if (too_long) {
    Malformed(path, n, "line_too_long: over " + std::to_string(matcher::kMaxLineBytes) + " bytes");
    return;
  }
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  auto outcome = reader.Read(text, &event_);
  if (!outcome.ok()) {
    Malformed(path, n, outcome.status().NamedMessage());
    return;
  }
  if (*outcome != matcher::LineReader::Outcome::kEvent) return;
  ++result_.stats.events;
  matcher_.Match(event_, &hits_);
  if (!hits_.empty()) Emit(path, n, event_);
}

void MatchRun::ReadLines(LineSource& lines, const std::string& path, int64_t start, int64_t end,
                         matcher::LineReader& reader) {
  std::string_view text;
  bool too_long = false;
  // `start`: the input offset `lines` began at; a line starting at `end` or later is the
  // next unit's.
  for (int64_t n = 1; (end < 0 || start + lines.consumed() < end) && lines.Next(&text, &too_long);
       ++n) {
    Line(text, too_long, path, n, reader);
  }
}

// A regular file that is not gzip-compressed: read with fopen directly rather
// than through formats::Input (zlib's pass-through and a cookie FILE copy
// every byte twice more).
bool PlainFile(const std::string& path) {
  if (path == "-") return false;
  struct stat st {};
  if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  unsigned char magic[2] = {0, 0};
  const size_t n = std::fread(magic, 1, 2, f);
  std::fclose(f);
  return !(n == 2 && magic[0] == 0x1f && magic[1] == 0x8b);
}

Status MatchRun::Read(const Unit& unit) {
  auto opened = formats::Input::Open(unit.path);
  if (!opened.ok()) return opened.status();
  std::unique_ptr<formats::Input> in = std::move(*opened);
  CTIHUB_ASSIGN_OR_RETURN(std::string format_name, InputFormat(*in, unit.format));
  if (format_name.empty()) return Status::Ok();  // nothing to read
  CTIHUB_ASSIGN_OR_RETURN(matcher::Format format, matcher::ParseFormat(format_name));
  auto maker = matcher::LineReader::Make(
      format, *maps_, const_cast<matcher::PathRegistry*>(paths_));  // maps interned already
  if (!maker.ok()) return maker.status();
  std::unique_ptr<matcher::LineReader> reader = std::move(*maker);
  reader->set_padded_lines(true);  // every line comes from a LineSource
  if (unit.begin == 0 && unit.end < 0 && !PlainFile(unit.path)) {
    std::FILE* f = in->file();
    if (f == nullptr) return Internal("cannot stream " + unit.path);
    LineSource lines(f);
    ReadLines(lines, unit.path, 0, -1, *reader);
    if (std::ferror(f)) return InvalidArgument("read error: " + in->error());
    return Status::Ok();
  }
  // A plain file, or a range of one: the line that starts before `begin` belongs
  // to the previous unit, so reading starts one byte early and drops that line.
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(unit.path.c_str(), "rb"),
                                                    &std::fclose);
  if (!f) return InvalidArgument(std::string(std::strerror(errno)));
  const int64_t from = unit.begin > 0 ? unit.begin - 1 : 0;
  if (fseeko(f.get(), from, SEEK_SET) != 0) return InvalidArgument(std::strerror(errno));
  LineSource lines(f.get());
  if (unit.begin > 0) {
    std::string_view partial;
    bool too_long = false;
    if (!lines.Next(&partial, &too_long)) return Status::Ok();
  }
  ReadLines(lines, unit.path, from, unit.end, *reader);
  if (std::ferror(f.get()))
    return InvalidArgument("read error: " + std::string(std::strerror(errno)));
  return Status::Ok();
}

void MatchRun::Emit(const std::string& file, int64_t line, const matcher::Event& event) {
  const std::string time = matcher::EventTimeText(event);
  for (const matcher::Hit& h : hits_) {
    ++result_.stats.hits;
    std::string_view value =
        h.field >= 0 ? event.fields[static_cast<size_t>(h.field)].value : std::string_view();
    if (out_ != nullptr) {
      line_out_.clear();
      AppendHitLine(*index_, *paths_, h.indicator, h.path, value, file, line, time, &line_out_);
      std::fwrite(line_out_.data(), 1, line_out_.size(), out_);
    } else {
      result_.hits.push_back({h.indicator, h.path, std::string(value), line, time});
    }
    Tally(&result_.tallies, h.indicator, event.time.has(), event.time.micros());
  }
}

// A file being followed: its stream, the lines read from it, its identity
// (to notice a replacement) and the reader of its format (made from its first
// non-blank line unless --format was given).
struct FollowedFile {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f{nullptr, &std::fclose};
  std::unique_ptr<LineSource> lines;
  std::unique_ptr<matcher::LineReader> reader;
  dev_t dev = 0;
  ino_t ino = 0;
  int64_t n = 0;  // lines read

  Status Open(const std::string& path) {
    f.reset(std::fopen(path.c_str(), "rb"));
    if (!f) return InvalidArgument(std::string(std::strerror(errno)));
    struct stat st {};
    if (fstat(fileno(f.get()), &st) != 0) return InvalidArgument(std::strerror(errno));
    dev = st.st_dev;
    ino = st.st_ino;
    Restart();
    return Status::Ok();
  }
  // From the start of the stream: new lines, a new reader, line numbers from 1.
  void Restart() {
    lines = std::make_unique<LineSource>(f.get());
    lines->SetFollow(true);
    reader.reset();
    n = 0;
  }
};

Status MatchRun::Follow(const std::string& path, const std::string& format,
                        const FollowOptions& opts, FollowStats* fs) {
  FollowSignals signals;
  FollowedFile file;
  CTIHUB_RETURN_IF_ERROR(file.Open(path));
  const auto start = Clock::now();
  auto last_line = start;
  auto seconds_since = [](Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
  };
  auto timed_out = [&] { return opts.timeout_s > 0 && seconds_since(start) >= opts.timeout_s; };
  auto last_sightings = start;
  auto sightings_due = [&] {
    return opts.on_sightings && opts.sightings_every_s > 0 &&
           seconds_since(last_sightings) >= opts.sightings_every_s;
  };
  // Reads every complete line there is now (stopping early on a signal or,
  // checked every 1024 lines, the timeout or periodic sightings being due, so a
  // busy stream still gets them); true when it read one.
  auto drain = [&]() -> Result<bool> {
    bool any = false;
    std::string_view text;
    bool too_long = false;
    for (int64_t read = 0;
         !g_follow_stop && ((read & 1023) != 1023 || !(timed_out() || sightings_due())) &&
         file.lines->Next(&text, &too_long);
         ++read) {
      any = true;
      ++file.n;
      if (!file.reader) {
        if (!too_long && text.find_first_not_of(" \t\r") == std::string_view::npos) {
          ++result_.stats.lines;  // blank lines before the first one: nothing to read yet
          result_.stats.bytes += static_cast<int64_t>(text.size()) + 1;
          continue;
        }
        std::string name = format;
        if (name.empty()) {
          if (too_long) return InvalidArgument("line_too_long: the first line is too long");
          auto detected = matcher::DetectFormat(text);
          if (!detected.ok()) return detected.status();
          name = std::string(matcher::FormatName(*detected));
        }
        CTIHUB_ASSIGN_OR_RETURN(matcher::Format f, matcher::ParseFormat(name));
        CTIHUB_ASSIGN_OR_RETURN(
            file.reader,
            matcher::LineReader::Make(f, *maps_, const_cast<matcher::PathRegistry*>(paths_)));
        file.reader->set_padded_lines(true);  // lines from a LineSource
      }
      Line(text, too_long, path, file.n, *file.reader);
    }
    if (std::ferror(file.f.get()))
      return InvalidArgument("read error: " + std::string(std::strerror(errno)));
    return any;
  };
  for (;;) {
    CTIHUB_ASSIGN_OR_RETURN(bool any, drain());
    if (any) {
      last_line = Clock::now();
      if (out_ != nullptr) std::fflush(out_);
    }
    if (sightings_due()) {
      last_sightings = Clock::now();
      if (opts.on_sightings(result_.tallies)) ++fs->sightings_emitted;
      if (any) continue;  // a busy stream: read on without the pause
    }
    if (g_follow_stop) {
      fs->stopped_by = "signal";
      break;
    }
    if (timed_out()) {
      fs->stopped_by = "follow-timeout";
      break;
    }
    if (opts.idle_s > 0 && seconds_since(last_line) >= opts.idle_s) {
      fs->stopped_by = "follow-idle";
      break;
    }
    // Replaced (renamed away and a new file made): the rest of the old one, a
    // last line without its newline included, then the new one from its start.
    // Gone and not replaced yet: keep reading the old one. Shrunk: from the start.
    struct stat now {};
    if (stat(path.c_str(), &now) == 0 && (now.st_ino != file.ino || now.st_dev != file.dev)) {
      file.lines->SetFollow(false);
      CTIHUB_ASSIGN_OR_RETURN(bool rest, drain());
      (void)rest;
      FollowedFile next;
      if (next.Open(path).ok()) {
        file = std::move(next);
        ++fs->reopened;
        if (out_ != nullptr) std::fflush(out_);
        continue;
      }
      file.lines->SetFollow(true);  // vanished again between stat and open: try later
    } else {
      struct stat mine {};
      const off_t at = ftello(file.f.get());
      if (fstat(fileno(file.f.get()), &mine) == 0 && at >= 0 && mine.st_size < at) {
        if (fseeko(file.f.get(), 0, SEEK_SET) != 0)
          return InvalidArgument("rewinding after truncation: " +
                                 std::string(std::strerror(errno)));
        std::clearerr(file.f.get());
        file.Restart();
        ++fs->reopened;
        continue;
      }
    }
    auto pause = kFollowPoll;
    if (opts.timeout_s > 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::duration<double>(opts.timeout_s - seconds_since(start)));
      pause = std::clamp(left, std::chrono::milliseconds(1), pause);
    }
    timespec ts{static_cast<time_t>(pause.count() / 1000),
                static_cast<long>(pause.count() % 1000) * 1'000'000};
    nanosleep(&ts, nullptr);  // a signal ends it early
  }
  fs->seconds = seconds_since(start);
  if (out_ != nullptr) std::fflush(out_);
  return Status::Ok();
}

// ---- threads ---------------------------------------------------------------------

constexpr int64_t kMinChunkBytes = 1 << 20;

// A plain (not gzip) regular file whose lines stand alone (not Zeek TSV,
// whose header decides the columns) can be read in byte ranges.
bool Splittable(const std::string& path, const std::string& format, int64_t* size) {
  if (path == "-" || format == "zeek-tsv" || format.empty()) return false;
  std::error_code ec;
  auto bytes = std::filesystem::file_size(path, ec);
  if (ec) return false;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  unsigned char magic[2] = {0, 0};
  size_t n = std::fread(magic, 1, 2, f);
  std::fclose(f);
  if (n == 2 && magic[0] == 0x1f && magic[1] == 0x8b) return false;
  *size = static_cast<int64_t>(bytes);
  return *size >= 2 * kMinChunkBytes;
}

// The units of all inputs in input order: whole inputs, large plain files in
// about 4 ranges per thread (at least kMinChunkBytes each).
std::vector<Unit> PlanUnits(const std::vector<std::string>& inputs, const std::string& given,
                            int threads) {
  std::vector<Unit> units;
  for (const std::string& path : inputs) {
    std::string format = given;
    if (format.empty() && path != "-") {
      auto in = formats::Input::Open(path);
      if (in.ok()) {
        auto f = InputFormat(**in, "");
        if (f.ok()) format = *f;
      }
    }
    int64_t size = 0;
    if (path == "-" || !Splittable(path, format, &size)) {
      units.push_back({path, given, 0, -1});
      continue;
    }
    int64_t chunks = std::min<int64_t>(int64_t{4} * threads, size / kMinChunkBytes);
    int64_t step = (size + chunks - 1) / chunks;
    for (int64_t begin = 0; begin < size; begin += step)
      units.push_back({path, format, begin, std::min(size, begin + step)});
  }
  return units;
}

// Runs the units on `threads` threads (one Matcher each) and writes their
// hits in unit order, line numbers counted across the units of one file:
// the output is the single-threaded output.
struct ThreadedRun {
  RunStats stats;
  std::map<uint32_t, SightingTally> tallies;
  int64_t unreadable = 0;
};

ThreadedRun RunThreads(const std::vector<Unit>& units, int threads,
                       const matcher::IndicatorIndex& index, const matcher::PathRegistry& paths,
                       const std::vector<matcher::FieldMapping>& maps, matcher::MatchOptions opts,
                       std::FILE* out) {
  std::vector<UnitResult> results(units.size());
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  workers.reserve(static_cast<size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      MatchRun run(&index, &paths, &maps, nullptr, opts);
      for (size_t i; (i = next.fetch_add(1)) < units.size();) {
        Status st = run.Read(units[i]);
        results[i] = run.TakeResult();
        results[i].status = st;
      }
    });
  }
  for (std::thread& w : workers) w.join();

  ThreadedRun total;
  std::string buf;
  int64_t base = 0;  // lines of the earlier units of the same file
  for (size_t i = 0; i < units.size(); ++i) {
    if (i > 0 && units[i].path != units[i - 1].path) base = 0;
    UnitResult& r = results[i];
    if (!r.status.ok()) {
      // An unreadable file fails in each of its units: reported once.
      if (i == 0 || units[i].path != units[i - 1].path || results[i - 1].status.ok()) {
        ++total.unreadable;
        std::fprintf(stderr, "ctihub match: %s: %s\n", units[i].path.c_str(),
                     r.status.NamedMessage().c_str());
      }
    }
    buf.clear();
    for (const StoredHit& h : r.hits)
      AppendHitLine(index, paths, h.indicator, h.path, h.value, units[i].path, base + h.line,
                    h.time, &buf);
    std::fwrite(buf.data(), 1, buf.size(), out);
    RunStats& s = total.stats;
    s.events += r.stats.events;
    s.lines += r.stats.lines;
    s.hits += r.stats.hits;
    s.malformed += r.stats.malformed;
    s.bytes += r.stats.bytes;
    for (MalformedLine& m : r.stats.malformed_samples) {
      if (s.malformed_samples.size() >= kMaxListedMalformed) break;
      m.line += base;
      s.malformed_samples.push_back(std::move(m));
    }
    for (const auto& entry : r.tallies) {
      const SightingTally& t = entry.second;
      Tally(&total.tallies, entry.first, false, 0, t.count);
      if (t.first_us <= t.last_us) {
        Tally(&total.tallies, entry.first, true, t.first_us, 0);
        Tally(&total.tallies, entry.first, true, t.last_us, 0);
      }
    }
    base += r.stats.lines;
  }
  return total;
}

// ---- sightings -------------------------------------------------------------------

// The sightings of one run: one STIX 2.1 sighting per indicator with hits, made
// by `identity` (where sighted; omitted when the reader has none). A sighting's
// id and `created` are fixed when it is first emitted; emitting it again (the
// periodic sightings of --follow, then the end of the run) gives a new version
// of the same object: same id and `created`, a later `modified`, the count,
// first_seen and last_seen so far. STIX 2.1 (3.6, versioning) makes a changed
// object by its creator a new version, and a consumer keeps the latest one, so
// a producer's hub sees one sighting per indicator whose count grows rather
// than a pile of partial sightings it would have to add up. Not thread-safe.
class SightingLedger {
 public:
  explicit SightingLedger(std::string identity) : identity_(std::move(identity)) {}

  // New versions of the sightings whose tallies changed since the last call
  // (at the first call: every indicator with hits), as JSON texts.
  std::vector<std::string> Update(const matcher::IndicatorIndex& index,
                                  const std::map<uint32_t, SightingTally>& tallies) {
    const int64_t now_ms = Timestamp::Now().micros() / 1000;
    std::vector<std::string> changed;
    for (const auto& [indicator, t] : tallies) {
      auto [it, fresh] = entries_.try_emplace(indicator);
      Entry& e = it->second;
      if (!fresh && e.tally.count == t.count && e.tally.first_us == t.first_us &&
          e.tally.last_us == t.last_us)
        continue;
      if (fresh) {
        e.id = "sighting--" + Uuid::V4().ToString();
        e.created_ms = now_ms;
        e.modified_ms = now_ms;
      } else {
        e.modified_ms = std::max(now_ms, e.modified_ms + 1);  // strictly later, in ms
      }
      e.tally = t;
      e.json = Render(index.id(indicator), e);
      changed.push_back(e.json);
    }
    return changed;
  }

  // The latest version of every sighting emitted so far.
  std::vector<std::string> All() const {
    std::vector<std::string> out;
    out.reserve(entries_.size());
    for (const auto& entry : entries_) out.push_back(entry.second.json);
    return out;
  }
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string id;
    int64_t created_ms = 0;
    int64_t modified_ms = 0;
    SightingTally tally;
    std::string json;
  };

  std::string Render(const std::string& indicator_id, const Entry& e) const {
    auto at = [](int64_t ms) { return Timestamp::FromMicros(ms * 1000).ToString(); };
    std::string s;
    json::JsonWriter w(s);
    w.BeginObject().Key("type").String("sighting").Key("spec_version").String("2.1");
    w.Key("id").String(e.id);
    w.Key("created").String(at(e.created_ms)).Key("modified").String(at(e.modified_ms));
    if (!identity_.empty()) w.Key("created_by_ref").String(identity_);
    w.Key("sighting_of_ref").String(indicator_id);
    w.Key("count").Int(std::min(e.tally.count, kMaxSightingCount));
    if (e.tally.first_us <= e.tally.last_us) {
      w.Key("first_seen").String(Timestamp::FromMicros(e.tally.first_us).ToString());
      w.Key("last_seen").String(Timestamp::FromMicros(e.tally.last_us).ToString());
    }
    if (!identity_.empty()) w.Key("where_sighted_refs").BeginArray().String(identity_).EndArray();
    w.EndObject();
    return s;
  }

  std::string identity_;
  std::map<uint32_t, Entry> entries_;
};

// Writes the sightings as one bundle: to PATH.tmp, then renamed over PATH, so
// a reader of a file rewritten while following never sees half of one.
Status WriteSightingsFile(const std::string& path, const std::vector<std::string>& sightings) {
  std::string bundle =
      "{\"type\":\"bundle\",\"id\":\"bundle--" + Uuid::V4().ToString() + "\",\"objects\":[";
  for (size_t i = 0; i < sightings.size(); ++i) {
    if (i > 0) bundle += ",\n";
    bundle += sightings[i];
  }
  bundle += "]}\n";
  struct stat st {};
  if (stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {  // a pipe, /dev/stdout: no rename
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) return InvalidArgument(path + ": " + std::strerror(errno));
    bool ok = std::fwrite(bundle.data(), 1, bundle.size(), f) == bundle.size();
    ok = (std::fclose(f) == 0) && ok;
    if (!ok) return InvalidArgument(path + ": write failed: " + std::strerror(errno));
    return Status::Ok();
  }
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return InvalidArgument(tmp + ": " + std::strerror(errno));
  bool ok = std::fwrite(bundle.data(), 1, bundle.size(), f) == bundle.size();
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    return InvalidArgument(tmp + ": write failed: " + std::strerror(errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return InvalidArgument(path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

// What the sightings emitted so far came to (--report totals over the run).
struct SightingOutcome {
  int64_t reported = 0;  // sighting versions stored in the hub
  int64_t rejected = 0;
  std::string error;  // the last failure (a periodic one does not stop following)
};

// Emits the sightings whose tallies changed since the last call: the file
// (--sightings) rewritten with the latest version of every sighting (always at
// the `last` call), the changed ones stored in the hub (--report). A failure
// is printed and kept in `out->error`. Returns how many sightings changed.
size_t EmitSightings(const MatchArgs& a, HubSession* hub, const matcher::IndicatorIndex& index,
                     const std::map<uint32_t, SightingTally>& tallies, bool last,
                     SightingLedger* ledger, SightingOutcome* out) {
  const std::vector<std::string> changed = ledger->Update(index, tallies);
  if (!a.sightings.empty() && (last || !changed.empty())) {
    Status st = WriteSightingsFile(a.sightings, ledger->All());
    if (!st.ok()) {
      out->error = "--sightings: " + st.NamedMessage();
      if (!last) std::fprintf(stderr, "ctihub match: %s\n", out->error.c_str());
    }
  }
  if (a.report && hub != nullptr && !changed.empty()) {
    auto summary = ReportObjects(*hub->store, *hub->trail, a.report_collection, a.root,
                                 hub->policy.get(), hub->principal, changed, "cli match");
    if (!summary.ok()) {
      out->error = "--report: " + summary.status().NamedMessage();
      if (!last) std::fprintf(stderr, "ctihub match: %s\n", out->error.c_str());
      return changed.size();
    }
    out->reported += summary->stored;
    out->rejected += summary->rejected;
  }
  return changed.size();
}

// ---- summary ---------------------------------------------------------------------

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Wall and process CPU seconds of a phase: on a shared machine the CPU time
// is the figure that compares (with threads it is the sum over them).
struct Elapsed {
  double wall = 0;
  double cpu = 0;
};

class Stopwatch {
 public:
  Elapsed Stop() const {
    return {std::chrono::duration<double>(Clock::now() - wall_).count(), CpuSeconds() - cpu_};
  }

 private:
  Clock::time_point wall_ = Clock::now();
  double cpu_ = CpuSeconds();
};

void PrintSummary(const IndicatorSet& set, Elapsed load, const matcher::IndexStats& st,
                  size_t refused, Elapsed build, const RunStats& r, Elapsed match,
                  size_t sightings) {
  if (set.pages > 0) {
    std::fprintf(stderr, "ctihub match: %lld objects read in %lld TAXII pages in %.3f s\n",
                 static_cast<long long>(set.objects), static_cast<long long>(set.pages), load.wall);
  } else {
    std::fprintf(stderr, "ctihub match: %lld objects read in %.3f s (%.3f s CPU)\n",
                 static_cast<long long>(set.objects), load.wall, load.cpu);
  }
  std::fprintf(
      stderr,
      "ctihub match: indicators: %zu indexed (exact %zu, of which cidr %zu; regex %zu, "
      "of which suffix %zu; residual %zu; stateful %zu), %zu refused, %lld revoked, %lld not stix, "
      "%lld superseded versions; index built in %.3f s (%.3f s CPU; %zu exact entries, "
      "%zu bytes)\n",
      st.indicators, st.exact, st.cidr, st.regex, st.suffix, st.residual, st.stateful, refused,
      static_cast<long long>(set.revoked), static_cast<long long>(set.not_stix),
      static_cast<long long>(set.superseded), build.wall, build.cpu, st.exact_entries,
      st.exact_bytes);
  const double secs = std::max(match.wall, 1e-9);
  const double cpu = std::max(match.cpu, 1e-9);
  std::fprintf(stderr,
               "ctihub match: %lld lines, %lld events, %lld hits, %lld malformed, %zu sightings; "
               "%.3f s (%.3f s CPU), %.0f lines/s, %.0f lines per CPU-second, %.1f MB/s\n",
               static_cast<long long>(r.lines), static_cast<long long>(r.events),
               static_cast<long long>(r.hits), static_cast<long long>(r.malformed), sightings,
               match.wall, match.cpu, static_cast<double>(r.lines) / secs,
               static_cast<double>(r.lines) / cpu, static_cast<double>(r.bytes) / secs / 1e6);
  for (const MalformedLine& m : r.malformed_samples) {
    std::fprintf(stderr, "ctihub match: malformed: %s:%lld: %s\n", m.file.c_str(),
                 static_cast<long long>(m.line), m.reason.c_str());
  }
  if (r.malformed > static_cast<int64_t>(r.malformed_samples.size())) {
    std::fprintf(
        stderr, "ctihub match: ... %lld more malformed lines\n",
        static_cast<long long>(r.malformed) - static_cast<long long>(r.malformed_samples.size()));
  }
}

Result<std::vector<matcher::FieldMapping>> ParseMaps(const std::vector<std::string>& specs) {
  std::vector<matcher::FieldMapping> maps;
  for (const auto& spec : specs) {
    CTIHUB_ASSIGN_OR_RETURN(matcher::FieldMapping m, matcher::ParseFieldMapping(spec));
    maps.push_back(std::move(m));
  }
  return maps;
}

// Builds the index; indicators whose pattern does not compile are reported
// (a sample) and left out.
Result<std::unique_ptr<matcher::IndicatorIndex>> BuildIndex(const IndicatorSet& set,
                                                            matcher::PathRegistry* paths,
                                                            size_t* refused) {
  matcher::IndexBuilder builder(paths);
  builder.Reserve(set.list.size());
  for (const matcher::IndicatorInput& in : set.list) {
    if (in.pattern.empty()) continue;  // revoked
    Status st = builder.Add(in);
    if (st.ok()) continue;
    if (++*refused <= kMaxListedRefused) {
      std::fprintf(stderr, "ctihub match: indicator %s refused: %s\n", in.id.c_str(),
                   st.NamedMessage().c_str());
    }
  }
  return builder.Finish();
}

// --follow reads one plain file: not stdin, not gzip, not several inputs, one thread.
Status CheckFollow(const MatchArgs& a) {
  if (!a.follow) {
    if (a.follow_timeout_s > 0 || a.follow_idle_s > 0 || a.sightings_every_s >= 0)
      return InvalidArgument(
          "--follow-timeout, --follow-idle and --sightings-every go with --follow");
    return Status::Ok();
  }
  if (a.sightings_every_s >= 0 && a.sightings.empty() && !a.report)
    return InvalidArgument("--sightings-every goes with --sightings or --report");
  if (a.inputs.size() != 1) return InvalidArgument("--follow takes exactly one --input");
  const std::string& path = a.inputs[0];
  if (path == "-") return InvalidArgument("--follow needs a plain file: stdin cannot be followed");
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return InvalidArgument(path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    return InvalidArgument("--follow needs a plain file: " + path + " is not a regular file");
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return InvalidArgument(path + ": " + std::strerror(errno));
  unsigned char magic[2] = {0, 0};
  const size_t n = std::fread(magic, 1, 2, f);
  std::fclose(f);
  if (n == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
    return InvalidArgument("--follow needs a plain file: " + path + " is gzip-compressed");
  if (a.threads > 1) return InvalidArgument("--follow reads one stream: --threads must be 1");
  return Status::Ok();
}

int RunMatch(const MatchArgs& a) {
  if (a.report && a.report_collection.empty()) return Fail("--report needs --report-collection");
  if (!a.format.empty()) {
    auto f = matcher::ParseFormat(a.format);
    if (!f.ok()) return Fail("--format: " + f.status().NamedMessage());
  }
  auto maps = ParseMaps(a.maps);
  if (!maps.ok()) return Fail(maps.status().NamedMessage());
  if (Status st = CheckFollow(a); !st.ok()) return Fail(st.NamedMessage());
  const bool from_collection =
      a.indicators.compare(0, kCollectionPrefix.size(), kCollectionPrefix) == 0;
  const bool from_taxii = a.indicators.compare(0, kTaxiiPrefix.size(), kTaxiiPrefix) == 0;
  if (!from_taxii && (a.remote.AnyGiven() || !a.collection.empty())) {
    return Fail(
        "--user, --password-stdin, --token-stdin, --ca-file, --insecure-tls and --collection "
        "go with --indicators taxii:URL");
  }
  if (a.remote.ReadsStdin() && std::find(a.inputs.begin(), a.inputs.end(), "-") != a.inputs.end()) {
    return Fail("--password-stdin/--token-stdin read stdin: it cannot also be an --input");
  }

  std::optional<HubSession> hub;
  if (from_collection || a.report || !a.as_user.empty()) {
    auto opened = OpenHub(a);
    if (!opened.ok()) return Fail(opened.status().NamedMessage());
    hub.emplace(std::move(*opened));
  }
  const Stopwatch load_clock;
  IndicatorSet set;
  Status loaded;
  if (from_collection) {
    loaded = LoadCollection(*hub, a,
                            std::string_view(a.indicators).substr(kCollectionPrefix.size()), &set);
  } else if (from_taxii) {
    loaded = LoadTaxii(a, std::string_view(a.indicators).substr(kTaxiiPrefix.size()), &set);
  } else {
    loaded = LoadBundleFile(a.indicators, &set);
  }
  if (!loaded.ok()) return Fail("--indicators: " + loaded.NamedMessage());
  const Elapsed load_time = load_clock.Stop();
  for (const std::string& s : set.samples) std::fprintf(stderr, "ctihub match: %s\n", s.c_str());

  matcher::PathRegistry paths;
  if (!maps->empty()) {
    // Interns the mapped paths now: readers made later (on other threads) only look them up.
    auto reader = matcher::LineReader::Make(matcher::Format::kJsonLines, *maps, &paths);
    if (!reader.ok()) return Fail(reader.status().NamedMessage());
  }
  size_t refused = 0;
  const Stopwatch build_clock;
  auto index = BuildIndex(set, &paths, &refused);
  if (!index.ok()) return Fail("index: " + index.status().NamedMessage());
  const Elapsed build_time = build_clock.Stop();

  std::FILE* out = stdout;
  if (!a.output.empty() && a.output != "-") {
    out = std::fopen(a.output.c_str(), "wb");
    if (out == nullptr) return Fail("--output " + a.output + ": " + std::strerror(errno));
  }
  std::vector<char> out_buf(1u << 20);
  std::setvbuf(out, out_buf.data(), _IOFBF, out_buf.size());

  matcher::MatchOptions opts;
  opts.ignore_validity = a.ignore_validity;
  int threads = a.threads;
  if (threads > 1 && (*index)->stats().stateful > 0) {
    std::fprintf(stderr,
                 "ctihub match: %zu multi-observation patterns need one ordered stream: "
                 "--threads %d ignored\n",
                 (*index)->stats().stateful, threads);
    threads = 1;
  }
  const bool want_sightings = !a.sightings.empty() || a.report;
  const std::string identity = hub ? hub->identity : std::string();
  if (want_sightings && identity.empty()) {
    std::fprintf(stderr,
                 "ctihub match: warning: the reader has no organisation identity: sightings "
                 "carry no where_sighted_refs (read with --as-user USER)\n");
  }
  SightingLedger ledger(identity);
  SightingOutcome sighted;
  auto emit_sightings = [&](const std::map<uint32_t, SightingTally>& tallies, bool last) {
    return EmitSightings(a, hub ? &*hub : nullptr, **index, tallies, last, &ledger, &sighted) > 0;
  };

  const Stopwatch match_clock;
  RunStats stats;
  std::map<uint32_t, SightingTally> tallies;
  int64_t unreadable = 0;
  FollowStats follow;
  if (a.follow) {
    MatchRun run(index->get(), &paths, &*maps, out, opts);
    FollowOptions fo{a.follow_timeout_s, a.follow_idle_s, 0, nullptr};
    if (want_sightings) {
      fo.sightings_every_s = a.sightings_every_s < 0 ? kDefaultSightingsEvery : a.sightings_every_s;
      fo.on_sightings = [&](const std::map<uint32_t, SightingTally>& so_far) {
        std::fflush(out);  // the hits behind the sightings are out first
        return emit_sightings(so_far, false);
      };
    }
    Status st = run.Follow(a.inputs[0], a.format, fo, &follow);
    if (!st.ok()) {
      ++unreadable;
      std::fprintf(stderr, "ctihub match: %s: %s\n", a.inputs[0].c_str(),
                   st.NamedMessage().c_str());
    }
    UnitResult r = run.TakeResult();
    stats = std::move(r.stats);
    tallies = std::move(r.tallies);
  } else if (threads <= 1) {
    MatchRun run(index->get(), &paths, &*maps, out, opts);
    for (const std::string& input : a.inputs) {
      Status st = run.Read({input, a.format, 0, -1});
      if (!st.ok()) {
        ++unreadable;
        std::fprintf(stderr, "ctihub match: %s: %s\n", input.c_str(), st.NamedMessage().c_str());
      }
    }
    UnitResult r = run.TakeResult();
    stats = std::move(r.stats);
    tallies = std::move(r.tallies);
  } else {
    ThreadedRun r = RunThreads(PlanUnits(a.inputs, a.format, threads), threads, **index, paths,
                               *maps, opts, out);
    stats = std::move(r.stats);
    tallies = std::move(r.tallies);
    unreadable = r.unreadable;
  }
  const Elapsed match_time = match_clock.Stop();
  bool out_ok = std::fflush(out) == 0 && !std::ferror(out);
  if (out != stdout) out_ok = (std::fclose(out) == 0) && out_ok;
  if (!out_ok) return Fail("writing the hits failed: " + std::string(std::strerror(errno)));

  if (want_sightings) {
    emit_sightings(tallies, true);
    if (!sighted.error.empty()) return Fail(sighted.error);
    if (a.report) {
      std::fprintf(stderr,
                   "ctihub match: reported %lld sightings to collection %s (%lld rejected)\n",
                   static_cast<long long>(sighted.reported), a.report_collection.c_str(),
                   static_cast<long long>(sighted.rejected));
      if (sighted.rejected > 0) return kExitError;
    }
  }
  if (!a.quiet) {
    PrintSummary(set, load_time, (*index)->stats(), refused, build_time, stats, match_time,
                 ledger.size());
    if (a.follow) {
      std::fprintf(stderr,
                   "ctihub match: followed %s for %.1f s, reopened %lld times (rotated or "
                   "truncated), sightings updated %lld times while following, stopped by %s\n",
                   a.inputs[0].c_str(), follow.seconds, static_cast<long long>(follow.reopened),
                   static_cast<long long>(follow.sightings_emitted),
                   follow.stopped_by.empty() ? "an error" : follow.stopped_by.c_str());
    }
  }
  if (unreadable > 0) return kExitError;
  return stats.hits > 0 ? kExitOk : kExitNegative;
}

}  // namespace

void RegisterMatchCommand(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<MatchArgs>();
  CLI::App* cmd = app.add_subcommand(
      "match", "run STIX indicators over sensor logs: one JSON line per (event, indicator) hit");
  cmd->add_option("--indicators", args->indicators,
                  "a STIX bundle file (.gz read transparently), collection:ID|ALIAS of the "
                  "local hub (read through the sharing policy as --as-user), or taxii:URL of a "
                  "remote TAXII 2.1 collection (a collection URL, or an API root or discovery "
                  "URL with --collection)")
      ->required();
  cmd->add_option("--input", args->inputs, "log files (.gz read transparently), - for stdin")
      ->required();
  cmd->add_option("--format", args->format,
                  "zeek-json|zeek-tsv|suricata-eve|jsonl|stix (default: detected per input from "
                  "its first line)");
  cmd->add_option("--map", args->maps,
                  "FIELD=OBJECT_PATH: a JSON field (dotted for nested) to a STIX object path, "
                  "e.g. query=domain-name:value (repeatable; jsonl needs one)");
  cmd->add_option("--output", args->output, "write the hits here (default: stdout)");
  cmd->add_option("--sightings", args->sightings,
                  "write a STIX 2.1 bundle of sightings, one per indicator with hits");
  cmd->add_flag("--report", args->report,
                "store the sightings in the hub (--report-collection) through the import write "
                "path");
  cmd->add_option("--report-collection", args->report_collection,
                  "collection id or alias for --report");
  cmd->add_flag("--ignore-validity", args->ignore_validity,
                "match outside valid_from..valid_until too (replaying old logs); revoked "
                "indicators never match");
  cmd->add_option("--as-user", args->as_user,
                  "read the collection (and report) as this hub user (default: the local "
                  "administrator, an admin of no organisation)");
  cmd->add_option("--threads", args->threads,
                  "match on N threads (large plain inputs are read in ranges; the output is "
                  "the same as with one thread; multi-observation patterns need one)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--root", args->root, "API root of the collections (default: any)");
  AddRemoteCredentialOptions(cmd, &args->remote);
  cmd->add_option("--collection", args->collection,
                  "taxii:URL: the remote collection id when URL is an API root or discovery URL");
  cmd->add_option("--taxii-timeout", args->taxii_timeout_s,
                  "taxii:URL: seconds for reading the whole collection")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--taxii-limit", args->taxii_limit, "taxii:URL: page size asked of the server")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  cmd->add_option("--taxii-max-pages", args->taxii_max_pages,
                  "taxii:URL: stop with an error after this many pages")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40))
      ->capture_default_str();
  cmd->add_option("--data", args->data, "hub data directory")->capture_default_str();
  cmd->add_option("--db", args->db,
                  "PostgreSQL database (postgresql://...) instead of DIR/ctihub.db")
      ->envname("CTIHUB_DB");
  cmd->add_flag("--quiet", args->quiet, "no summary on stderr");
  cmd->add_flag("--follow", args->follow,
                "like tail -F: after the end of the (one, plain) input keep reading what is "
                "appended, reopen it when rotated or truncated; stop on SIGINT/SIGTERM or a "
                "--follow-* limit, then print the summary");
  cmd->add_option("--follow-timeout", args->follow_timeout_s,
                  "--follow: stop after this many seconds")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--follow-idle", args->follow_idle_s,
                  "--follow: stop after this many seconds without a new line")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--sightings-every", args->sightings_every_s,
                  "--follow with --sightings/--report: emit the sightings every this many "
                  "seconds while following (default 60; 0: only at the end); an update is a new "
                  "version of the same sighting (same id, later modified, the count so far)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([exit_code, args]() { *exit_code = RunMatch(*args); });
}

}  // namespace ctihub::cli
