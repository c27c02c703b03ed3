#include "taxii_client/pager.h"

namespace ctihub::taxii_client {
namespace {

Status Loop(std::string name, std::string message) {
  return {ErrorCode::kUnavailable, std::move(name), std::move(message)};
}

}  // namespace

Pager::Pager(PageQuery query, int64_t max_pages)
    : query_(std::move(query)), max_pages_(max_pages), added_after_(query_.added_after) {}

std::vector<std::pair<std::string, std::string>> Pager::NextParams() const {
  std::vector<std::pair<std::string, std::string>> params;
  if (query_.limit > 0) params.emplace_back("limit", std::to_string(query_.limit));
  if (!added_after_.empty()) params.emplace_back("added_after", added_after_);
  for (const auto& f : query_.filters) params.push_back(f);
  if (!next_.empty()) params.emplace_back("next", next_);
  return params;
}

std::string Pager::Describe() const {
  std::string s = "page " + std::to_string(pages_);
  if (!next_.empty()) s += ", next=" + next_.substr(0, 100);
  if (!added_after_.empty()) s += ", added_after=" + added_after_;
  return s;
}

Status Pager::CheckDates(const PageFacts& page, const Timestamp* first) const {
  if (first == nullptr) return Status::Ok();
  if (!added_after_.empty()) {
    auto asked = Timestamp::Parse(added_after_);
    if (asked.ok() && *first <= *asked)
      return Loop("added_after_ignored",
                  "the server ignored added_after: " + Describe() +
                      " starts at X-TAXII-Date-Added-First " + page.date_added_first +
                      "; stopping instead of reading the same objects again");
  }
  if (!last_date_added_.empty()) {
    auto prev = Timestamp::Parse(last_date_added_);
    if (prev.ok() && *first < *prev)
      return Loop("page_went_back", "the server went back in time: " + Describe() + " starts at " +
                                        page.date_added_first +
                                        ", before the previous page's last " + last_date_added_);
  }
  return Status::Ok();
}

Status Pager::Accept(const PageFacts& page) {
  ++pages_;
  std::optional<Timestamp> first, last;
  if (!page.date_added_first.empty()) {
    auto t = Timestamp::Parse(page.date_added_first);
    if (!t.ok())
      return InvalidArgument(
          "bad_response", "X-TAXII-Date-Added-First is not a timestamp: " + t.status().message());
    first = *t;
  }
  if (!page.date_added_last.empty()) {
    auto t = Timestamp::Parse(page.date_added_last);
    if (!t.ok())
      return InvalidArgument("bad_response",
                             "X-TAXII-Date-Added-Last is not a timestamp: " + t.status().message());
    last = *t;
  }
  if (!page.empty) {
    CTIHUB_RETURN_IF_ERROR(CheckDates(page, first ? &*first : nullptr));
    if (!pages_seen_.insert(page.fingerprint).second)
      return Loop("page_repeated", "the server sent the same objects again (" + Describe() +
                                       "); stopping instead of looping");
  }
  if (!page.date_added_last.empty()) last_date_added_ = page.date_added_last;
  if (!page.more) {
    done_ = true;
    return Status::Ok();
  }
  if (pages_ >= max_pages_)
    return LimitExceeded("too_many_pages", "more than " + std::to_string(max_pages_) +
                                               " pages; raise the page limit or page size");
  if (!page.next.empty()) {
    if (!nexts_seen_.insert(page.next).second)
      return Loop("next_repeated",
                  "the server sent a next token it sent before (" + Describe() + ")");
    next_ = page.next;
    return Status::Ok();
  }
  // `more` without `next`: continue after the last object of this page.
  if (!last)
    return Loop("more_without_cursor",
                "the server says more but sends neither next nor X-TAXII-Date-Added-Last (" +
                    Describe() + ")");
  if (!added_after_.empty()) {
    auto prev = Timestamp::Parse(added_after_);
    if (prev.ok() && *last <= *prev)
      return Loop("cursor_not_advancing", "X-TAXII-Date-Added-Last " + page.date_added_last +
                                              " does not move past added_after (" + Describe() +
                                              ")");
  }
  next_.clear();
  added_after_ = page.date_added_last;
  return Status::Ok();
}

Sha256Digest PageFingerprint(const std::vector<std::pair<std::string, std::string>>& items) {
  std::string all;
  for (const auto& [id, version] : items) {
    all += id;
    all += '\n';
    all += version;
    all += '\n';
  }
  return Sha256(all);
}

}  // namespace ctihub::taxii_client
