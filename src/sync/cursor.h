// The durable per-peer cursors of `ctihub sync`.
//
// PullCursor: the latest
// X-TAXII-Date-Added-Last a peer's objects endpoint sent, which becomes the
// next pass's added_after. One small JSON file per peer
// (DATA/sync/PEER.cursor) naming the peer's URL and remote collection too: a
// peer re-added with another URL or collection starts again from the
// beginning instead of skipping objects.
//
// The caller saves the cursor only after the page it came from is durable in
// the store (objects committed, audit flushed): a crash before the save
// re-fetches that page, whose objects are then already present (the store
// keeps a version once), so nothing is lost and nothing duplicated.
// PushCursor: the local `date_added` of the last version pushed to a peer and
// reported by the peer's status (DATA/sync/PEER.push-cursor); the next push
// sends only versions added after it. Saved only after the peer's status
// for that POST is complete (see cmd_sync.cc for what counts as complete).
// The sightings-back cursor (DATA/sync/PEER.sightings-cursor) is the same for
// the sightings sent back to a peer this hub pulls from.
//
// Save() replaces the file atomically (temp file, fsync, rename, fsync of the
// directory). Both cursors never move back; a file for another URL or
// collection starts from the beginning; a damaged file is bad_cursor_file
// (the operator removes it to start again). Not thread-safe; one process
// syncs one peer at a time.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace ctihub::sync {

class PullCursor {
 public:
  // Reads DATA/sync/PEER.cursor. No file, or a file for another URL or
  // collection: an empty cursor (from the beginning). An unreadable file:
  // bad_cursor_file (never silently from the beginning: that would re-pull
  // everything; the operator removes the file to do that).
  static Result<PullCursor> Load(const std::string& data_dir, std::string_view peer,
                                 std::string_view url, std::string_view collection);

  // The added_after of the next request ("" : from the beginning).
  const std::string& added_after() const { return added_after_; }

  // Moves the cursor to `date_added_last` (a page's X-TAXII-Date-Added-Last)
  // when it is later than the current one. Returns true when it moved; an
  // empty value moves nothing; bad_cursor when it is no RFC 3339 timestamp.
  // A value earlier than the cursor never moves it back.
  Result<bool> Advance(std::string_view date_added_last);

  // Writes the cursor durably (see the file comment).
  Status Save() const;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string url_;
  std::string collection_;
  std::string added_after_;
};

class PushCursor {
 public:
  // What is pushed: everything the peer may read (PEER.push-cursor), or only
  // the sightings of indicators the peer speaks for, sent back to a peer this
  // hub only pulls from (PEER.sightings-cursor).
  enum class Kind { kPush, kSightingsBack };

  // Reads DATA/sync/PEER.push-cursor (or .sightings-cursor). No file, or a
  // file for another URL, remote collection or local collection: from the
  // beginning (0). An unreadable file: bad_cursor_file.
  static Result<PushCursor> Load(const std::string& data_dir, std::string_view peer,
                                 std::string_view url, std::string_view collection,
                                 std::string_view local_collection, Kind kind = Kind::kPush);

  // The local date_added (microseconds) of the last version pushed; 0: none.
  int64_t date_added_us() const { return date_added_us_; }

  // Moves the cursor to `date_added_us` when it is later than the current one.
  // Returns true when it moved; never moves back.
  bool Advance(int64_t date_added_us);

  // Writes the cursor durably (see the file comment).
  Status Save() const;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string url_;
  std::string collection_;
  std::string local_collection_;
  int64_t date_added_us_ = 0;
};

}  // namespace ctihub::sync
