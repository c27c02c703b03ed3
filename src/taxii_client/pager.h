// Paging through the objects or manifest endpoint of a server that may not
// follow TAXII 2.1 to the letter. The pager decides the query of each next
// request from the pages seen so far and refuses to go on, with a named error,
// when a server would make the client loop:
//  - `next` given: the next request sends it with the first request's filters
//    (added_after included, unchanged: some servers require them, and moving
//    added_after as well would skip a page); a `next` seen before is
//    `next_repeated`.
//  - `more` without `next`: the next request moves added_after to the page's
//    X-TAXII-Date-Added-Last (`more_without_cursor` when the server sent no
//    such header, `cursor_not_advancing` when it did not move forward).
//  - a page whose X-TAXII-Date-Added-First is not after the added_after it was
//    asked for: `added_after_ignored`; before the previous page's last:
//    `page_went_back`.
//  - a non-empty page identical (same ids and versions) to an earlier one:
//    `page_repeated`.
//  - more pages than the limit: `too_many_pages`.
// Pure (no I/O); thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/hash.h"
#include "core/result.h"
#include "core/timestamp.h"

namespace ctihub::taxii_client {

struct PageQuery {
  std::string added_after;  // RFC 3339; empty: from the start
  int64_t limit = 0;        // 0: the server's default
  // Further filters (match[type], match[id], ...), sent on every request.
  std::vector<std::pair<std::string, std::string>> filters;
};

// What the pager needs to know of a page.
struct PageFacts {
  bool more = false;
  std::string next;
  std::string date_added_first;  // header values, may be empty
  std::string date_added_last;
  Sha256Digest fingerprint{};  // of the page's (id, version) list
  bool empty = true;
};

class Pager {
 public:
  Pager(PageQuery query, int64_t max_pages);

  // Query parameters of the next request.
  std::vector<std::pair<std::string, std::string>> NextParams() const;

  // Takes the page the last NextParams() request returned. Returns an error
  // (named above) when the server misbehaves in a way that would loop.
  Status Accept(const PageFacts& page);

  bool done() const { return done_; }
  int64_t pages() const { return pages_; }
  // The latest X-TAXII-Date-Added-Last seen (the resume point), or empty.
  const std::string& last_date_added() const { return last_date_added_; }

 private:
  Status CheckDates(const PageFacts& page, const Timestamp* first) const;
  std::string Describe() const;

  PageQuery query_;
  int64_t max_pages_;
  std::string added_after_;  // what the next request sends
  std::string next_;         // empty: paging by added_after
  std::set<std::string> nexts_seen_;
  std::set<Sha256Digest> pages_seen_;
  std::string last_date_added_;
  int64_t pages_ = 0;
  bool done_ = false;
};

// Fingerprint of a list of (id, version) pairs.
Sha256Digest PageFingerprint(const std::vector<std::pair<std::string, std::string>>& items);

}  // namespace ctihub::taxii_client
