// The per-peer pull and push cursors (cursor.h).
#include "sync/cursor.h"

#include <filesystem>
#include <optional>

#include "core/durable_file.h"
#include "core/json.h"
#include "core/timestamp.h"

namespace ctihub::sync {

namespace fs = std::filesystem;

Result<PullCursor> PullCursor::Load(const std::string& data_dir, std::string_view peer,
                                    std::string_view url, std::string_view collection) {
  PullCursor c;
  c.path_ = (fs::path(data_dir) / "sync" / (std::string(peer) + ".cursor")).string();
  c.url_ = std::string(url);
  c.collection_ = std::string(collection);
  CTIHUB_ASSIGN_OR_RETURN(std::optional<std::string> text,
                          ReadFileIfPresent(c.path_, "cursor_read_failed"));
  if (!text) return c;
  json::JsonParser parser;
  auto root = parser.Parse(*text);
  if (!root.ok()) return InvalidArgument("bad_cursor_file", c.path_ + ": not JSON");
  std::string_view saved_url, saved_collection, added_after;
  if ((*root)["url"].get_string().get(saved_url) != simdjson::SUCCESS ||
      (*root)["collection"].get_string().get(saved_collection) != simdjson::SUCCESS ||
      (*root)["added_after"].get_string().get(added_after) != simdjson::SUCCESS) {
    return InvalidArgument("bad_cursor_file", c.path_ + ": needs url, collection, added_after");
  }
  if (!added_after.empty() && !Timestamp::Parse(added_after).ok())
    return InvalidArgument("bad_cursor_file", c.path_ + ": added_after is no RFC 3339 time");
  if (saved_url == url && saved_collection == collection) c.added_after_ = std::string(added_after);
  return c;
}

Result<bool> PullCursor::Advance(std::string_view date_added_last) {
  if (date_added_last.empty()) return false;
  auto next = Timestamp::Parse(date_added_last);
  if (!next.ok())
    return InvalidArgument("bad_cursor", "X-TAXII-Date-Added-Last '" +
                                             std::string(date_added_last.substr(0, 64)) +
                                             "' is no RFC 3339 time");
  if (!added_after_.empty()) {
    auto current = Timestamp::Parse(added_after_);
    if (current.ok() && !(*current < *next)) return false;
  }
  added_after_ = std::string(date_added_last);
  return true;
}

Status PullCursor::Save() const {
  std::string text;
  json::JsonWriter w(text);
  w.BeginObject()
      .Key("url")
      .String(url_)
      .Key("collection")
      .String(collection_)
      .Key("added_after")
      .String(added_after_)
      .EndObject();
  text += '\n';
  return WriteFileDurably(path_, text, "cursor_write_failed");
}

Result<PushCursor> PushCursor::Load(const std::string& data_dir, std::string_view peer,
                                    std::string_view url, std::string_view collection,
                                    std::string_view local_collection, Kind kind) {
  PushCursor c;
  const char* suffix = kind == Kind::kPush ? ".push-cursor" : ".sightings-cursor";
  c.path_ = (fs::path(data_dir) / "sync" / (std::string(peer) + suffix)).string();
  c.url_ = std::string(url);
  c.collection_ = std::string(collection);
  c.local_collection_ = std::string(local_collection);
  CTIHUB_ASSIGN_OR_RETURN(std::optional<std::string> text,
                          ReadFileIfPresent(c.path_, "cursor_read_failed"));
  if (!text) return c;
  json::JsonParser parser;
  auto root = parser.Parse(*text);
  if (!root.ok()) return InvalidArgument("bad_cursor_file", c.path_ + ": not JSON");
  std::string_view saved_url, saved_collection, saved_local, date_added;
  if ((*root)["url"].get_string().get(saved_url) != simdjson::SUCCESS ||
      (*root)["collection"].get_string().get(saved_collection) != simdjson::SUCCESS ||
      (*root)["local_collection"].get_string().get(saved_local) != simdjson::SUCCESS ||
      (*root)["date_added"].get_string().get(date_added) != simdjson::SUCCESS) {
    return InvalidArgument("bad_cursor_file",
                           c.path_ + ": needs url, collection, local_collection, date_added");
  }
  int64_t us = 0;
  if (!date_added.empty()) {
    auto t = Timestamp::Parse(date_added);
    if (!t.ok() || t->micros() <= 0)
      return InvalidArgument("bad_cursor_file", c.path_ + ": date_added is no RFC 3339 time");
    us = t->micros();
  }
  if (saved_url == url && saved_collection == collection && saved_local == local_collection)
    c.date_added_us_ = us;
  return c;
}

bool PushCursor::Advance(int64_t date_added_us) {
  if (date_added_us <= date_added_us_) return false;
  date_added_us_ = date_added_us;
  return true;
}

Status PushCursor::Save() const {
  std::string text;
  json::JsonWriter w(text);
  w.BeginObject().Key("url").String(url_).Key("collection").String(collection_);
  w.Key("local_collection").String(local_collection_).Key("date_added");
  w.String(date_added_us_ > 0 ? Timestamp::FromMicros(date_added_us_).Format(6) : std::string());
  w.EndObject();
  text += '\n';
  return WriteFileDurably(path_, text, "cursor_write_failed");
}

}  // namespace ctihub::sync
