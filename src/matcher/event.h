// One log line as the matcher sees it: a list of (object path, normalised
// value) fields plus the event's time. Readers (readers.h) fill events; the
// index (index.h) looks their values up; EventToStix() turns an event into the
// STIX observed-data the pattern engine evaluates (residual patterns, tests).
//
// Object paths are interned in a PathRegistry (a fixed table of the paths the
// readers emit, plus the paths `--map` names): an event field carries the
// path's small id, so the hot path never hashes path text. Not thread-safe
// while paths are added; read-only use (Find, text) is safe from many threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pattern/ast.h"

namespace ctihub::matcher {

// How a path's values are normalised (the same on events and indicator literals).
enum class ValueKind : uint8_t {
  kPlain,   // as is
  kIp,      // IPv4/IPv6 address: inet_ntop text; IPv4-mapped IPv6 becomes IPv4
  kDomain,  // ASCII lower case, one trailing dot removed
  kHash,    // MD5/SHA-*: lower-case hex
  kUrl,     // scheme and host lower case
  kEmail,   // lower case
};

// The paths readers emit, in PathRegistry order (their ids).
enum PathId : uint32_t {
  kIpv4Value = 0,
  kIpv6Value,
  kDomainValue,
  kUrlValue,
  kEmailValue,
  kTrafficSrc,  // network-traffic:src_ref.value
  kTrafficDst,  // network-traffic:dst_ref.value
  kFileMd5,
  kFileSha1,
  kFileSha256,
  kX509Sha256,
  kX509Sha1,
  kFileName,
  kFixedPathCount
};

struct PathInfo {
  std::string text;               // canonical: type:key.'quoted key'...
  std::string type;               // the SCO type ("network-traffic")
  std::vector<std::string> keys;  // property keys after the type
  ValueKind kind = ValueKind::kPlain;
  // network-traffic with two keys (src_ref.value, dst_ref.value): a value on
  // it also stands for the address object's ipv4-addr/ipv6-addr:value.
  bool address_alias = false;
};

class PathRegistry {
 public:
  PathRegistry();  // holds the fixed paths
  // The id of `text` (canonical form, see CanonicalPath), added when new.
  // False (and no id) for a path an event cannot carry (index steps, `[*]`,
  // a `_ref` other than network-traffic's src_ref/dst_ref).
  bool Intern(std::string_view text, uint32_t* id);
  // The id of a path already known, or false.
  bool Find(std::string_view text, uint32_t* id) const;
  const PathInfo& info(uint32_t id) const { return paths_[id]; }
  size_t size() const { return paths_.size(); }

 private:
  std::vector<PathInfo> paths_;
  std::unordered_map<std::string, uint32_t> ids_;
};

// How values of the path type:keys... are normalised.
ValueKind PathKind(std::string_view type, const std::vector<std::string>& keys);

// The canonical text of an AST object path: keys that are plain identifiers
// bare, others quoted ('SHA-256'); `[n]` / `[*]` for list steps.
std::string CanonicalPath(const pattern::ObjectPath& path);
// Parses "type:key.'quoted key'" (the --map syntax) into the canonical text;
// false if malformed.
bool CanonicalPathText(std::string_view text, std::string* out);

// Normalises `value` for `kind` into `*out` (returns false when an IP value
// is no address: such a value is dropped from the event). For kIp, `*is_v6`
// says the family after normalisation.
bool NormalizeValue(ValueKind kind, std::string_view value, std::string* out,
                    bool* is_v6 = nullptr);
// The same, appended to `*out` (nothing appended when it returns false). For
// kIp, `addr` (when given) receives the address bytes: 16 for IPv6, the first
// 4 for IPv4.
bool AppendNormalized(ValueKind kind, std::string_view value, std::string* out,
                      bool* is_v6 = nullptr, unsigned char* addr = nullptr);

struct Field {
  uint32_t path = 0;
  uint16_t object = 0;     // fields with one object number describe one STIX object
  std::string_view value;  // normalised; valid until the next event is read
  // On a path of kind kIp: 4 or 6, and `addr` holds the address `value` is
  // the text of (so the prefix tables need not parse it again); 0 otherwise.
  uint8_t ip = 0;
  unsigned char addr[16] = {};
};

class LogTimeParser;  // readers.h

// An event's time. A reader may hand over the time's text instead: it is parsed
// when first asked for, since most lines have no hit and only hits, validity
// and stateful windows read the time (parsing every line's cost 2% of the
// match phase's instructions). The text must stay valid as long as the event's
// field views (until the reader's next line).
class EventTime {
 public:
  void Clear() { state_ = kNone; }
  void Set(int64_t micros) {
    state_ = kKnown;
    micros_ = micros;
  }
  // REQUIRES: parser outlives the text's use (it belongs to the reader).
  void SetText(std::string_view text, LogTimeParser* parser) {
    state_ = kText;
    text_ = text;
    parser_ = parser;
  }
  // False when the line had no time, or its text is not one.
  bool has() const {
    if (state_ == kText) Resolve();
    return state_ == kKnown;
  }
  int64_t micros() const { return has() ? micros_ : 0; }

 private:
  void Resolve() const;  // readers.cc, beside LogTimeParser

  enum State : uint8_t { kNone, kText, kKnown };
  // Resolving a text in a const event (the matcher's view) is not a change of
  // its value: the time was fixed when the reader read the line.
  mutable State state_ = kNone;
  mutable int64_t micros_ = 0;
  std::string_view text_;
  LogTimeParser* parser_ = nullptr;
};

struct Event {
  std::vector<Field> fields;
  EventTime time;
};

// Builds an event's fields: values are normalised into an arena the builder
// owns, so an event's views stay valid until Reset(). Allocates only while
// warming up (the arena and field vector keep their capacity).
class EventBuilder {
 public:
  explicit EventBuilder(const PathRegistry* paths) : paths_(paths) {}
  // Starts building `event` (which must stay alive until Finish).
  void Reset(Event* event);
  // Adds `raw` under `path` (normalised by the path's kind; an IP value on an
  // ipv4/ipv6 path moves to the path of its family). Returns false if the
  // value was dropped (empty, or not an address on an IP path).
  // REQUIRES: Reset was called.
  bool Add(uint32_t path, uint16_t object, std::string_view raw);
  // Resolves the views (the arena may have moved while growing); call once
  // after the last Add, with the event given to Reset.
  void Finish(Event* event);

 private:
  const PathRegistry* paths_;
  Event* event_ = nullptr;
  std::string arena_;
  std::vector<uint32_t> offsets_;  // per field of event_: its value's offset in arena_
};

// Appends the event as a JSON array [observed-data, SCOs...] that the pattern
// engine's ObservationSet loads (STIX 2.1, object_refs). `seq` makes the ids
// unique when several events are evaluated together.
void EventToStix(const Event& event, const PathRegistry& paths, uint64_t seq, std::string* out);
// The same objects without the enclosing brackets (to join several events);
// returns how many (the observed-data first, then its SCOs).
size_t AppendEventObjects(const Event& event, const PathRegistry& paths, uint64_t seq,
                          std::string* out);

// The RFC 3339 text of a time in microseconds ("" when it has none).
std::string EventTimeText(const Event& event);

}  // namespace ctihub::matcher
