// ExportRun, OpenExportStream and ExportFingerprint over the in-memory store:
// the streamed body is RunExport's output, its audit records follow the
// pieces the HTTP layer says were sent, and the ETag moves with the inputs.
#include "taxii/export.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "store/testing/memory_store.h"

namespace ctihub::taxii {
namespace {

class RecordingSink : public audit::Sink {
 public:
  Status Append(audit::Record r) override {
    if (fail) return Unavailable("audit_down", "injected");
    records.push_back(std::move(r));
    return {};
  }
  Status Flush() override { return {}; }
  size_t Objects() const {
    size_t n = 0;
    for (const auto& r : records) n += r.objects.size();
    return n;
  }
  bool fail = false;
  std::vector<audit::Record> records;
};

std::string Indicator(int i) {
  char id[64];
  std::snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012d", i);
  return std::string(R"({"created":"2025-01-01T00:00:00.000Z","id":")") + id +
         R"(","modified":"2025-01-02T00:00:00.000Z","name":"bulk )" + std::to_string(i) +
         R"(","pattern":"[domain-name:value = 'bulk-)" + std::to_string(i) +
         R"(.example']","pattern_type":"stix","spec_version":"2.1","type":"indicator",)"
         R"("valid_from":"2025-01-01T00:00:00Z"})";
}

class ExportStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store_.PutApiRoot({"api1", "API 1", "", 1 << 20}).ok());
    store::Collection c;
    c.api_root = "api1";
    c.title = "bulk";
    c.alias = "bulk";
    auto added = store_.AddCollection(c);
    ASSERT_TRUE(added.ok());
    collection_ = added->id;
    Add(0, 6000);
    options_.format = formats::ExportFormat::kCsv;
    options_.now = *Timestamp::Parse("2026-01-01T10:30:00Z");
    scope_.collection = "bulk";
    audit_.sink = &sink_;
    audit_.export_id = "e1";
  }
  void Add(int from, int to) {
    std::vector<store::NewObject> objects;
    for (int i = from; i < to; ++i) {
      store::NewObject o;
      o.json = Indicator(i);
      char id[64];
      std::snprintf(id, sizeof id, "indicator--00000000-0000-4000-8000-%012d", i);
      o.id = id;
      o.type = "indicator";
      o.spec_version = "2.1";
      o.version = *Timestamp::Parse("2025-01-02T00:00:00.000Z");
      o.has_version = true;
      objects.push_back(std::move(o));
    }
    auto written = store_.WriteObjects(collection_, std::move(objects), "").get();
    ASSERT_TRUE(written.ok()) << written.status().ToString();
  }
  std::string Whole() {
    formats::StringOutput out;
    auto exporter = formats::MakeExporter(options_, out);
    EXPECT_TRUE(exporter.ok());
    RecordingSink sink;
    ExportAudit audit = audit_;
    audit.sink = &sink;
    auto summary = RunExport(store_, ExportReader{}, scope_, options_, **exporter, audit);
    EXPECT_TRUE(summary.ok()) << summary.status().ToString();
    EXPECT_EQ(sink.Objects(), 6000u);
    return out.text;
  }
  static size_t Lines(const std::string& s) {
    return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
  }

  store::MemoryStore store_;
  std::string collection_;
  formats::ExportOptions options_;
  ExportScope scope_;
  RecordingSink sink_;
  ExportAudit audit_;
};

TEST_F(ExportStreamTest, PiecesMakeTheWholeExportAndRecordsFollowThem) {
  const std::string whole = Whole();
  auto stream = OpenExportStream(store_, ExportReader{}, scope_, options_, audit_);
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  std::string body, piece;
  int pieces = 0;
  for (int guard = 0; guard < 1000; ++guard) {
    auto more = (*stream)->Next(&piece);
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (!*more) {
      EXPECT_TRUE(piece.empty());
      break;
    }
    EXPECT_LE(piece.size(), kBodyChunkBytes + 4096);
    body += piece;
    ++pieces;
  }
  EXPECT_GT(pieces, 1) << "6000 CSV rows are more than one piece";
  EXPECT_EQ(body, whole);
  EXPECT_EQ(sink_.Objects(), 6000u);
  ASSERT_FALSE(sink_.records.empty());
  EXPECT_NE(sink_.records.back().details.find("\"last\":true"), std::string::npos);
  EXPECT_EQ(sink_.records.back().details.find("aborted"), std::string::npos);
}

// Abort after two pieces handed out: only the first was sent (Next was not
// called again after the second), so only its objects are recorded.
TEST_F(ExportStreamTest, AbortRecordsExactlyWhatWasSent) {
  auto stream = OpenExportStream(store_, ExportReader{}, scope_, options_, audit_);
  ASSERT_TRUE(stream.ok());
  std::string first, second;
  ASSERT_TRUE(*(*stream)->Next(&first));
  EXPECT_TRUE(sink_.records.empty()) << "nothing is recorded before it is sent";
  ASSERT_TRUE(*(*stream)->Next(&second));
  ASSERT_FALSE(second.empty());
  (*stream)->Abort();
  const size_t header_lines = 1;  // the CSV header
  EXPECT_EQ(sink_.Objects(), Lines(first) - header_lines);
  ASSERT_EQ(sink_.records.size(), 1u);
  EXPECT_NE(sink_.records.back().details.find("\"aborted\":true"), std::string::npos)
      << sink_.records.back().details;
  stream->reset();  // no second abort record
  EXPECT_EQ(sink_.records.size(), 1u);
}

// A producer dropped mid-way (the server stopping) records as an Abort does;
// one never read (HEAD) records nothing.
TEST_F(ExportStreamTest, DroppedStreamRecordsWhatWasSent) {
  {
    auto stream = OpenExportStream(store_, ExportReader{}, scope_, options_, audit_);
    ASSERT_TRUE(stream.ok());
  }
  EXPECT_TRUE(sink_.records.empty());
  {
    auto stream = OpenExportStream(store_, ExportReader{}, scope_, options_, audit_);
    ASSERT_TRUE(stream.ok());
    std::string piece;
    ASSERT_TRUE(*(*stream)->Next(&piece));
    ASSERT_TRUE(*(*stream)->Next(&piece));
  }
  ASSERT_EQ(sink_.records.size(), 1u);
  EXPECT_GT(sink_.Objects(), 0u);
  EXPECT_NE(sink_.records.back().details.find("\"aborted\":true"), std::string::npos);
}

TEST_F(ExportStreamTest, AuditFailureStopsTheStream) {
  auto stream = OpenExportStream(store_, ExportReader{}, scope_, options_, audit_);
  ASSERT_TRUE(stream.ok());
  sink_.fail = true;
  std::string piece;
  Status st;
  for (int guard = 0; guard < 1000 && st.ok(); ++guard) {
    auto more = (*stream)->Next(&piece);
    if (!more.ok()) {
      st = more.status();
    } else if (!*more) {
      break;
    }
  }
  EXPECT_FALSE(st.ok()) << "an export the trail cannot record must not end as complete";
}

TEST_F(ExportStreamTest, UnknownCollectionIsAnErrorBeforeTheBody) {
  scope_.collection = "nope";
  auto stream = OpenExportStream(store_, ExportReader{}, scope_, options_, audit_);
  ASSERT_FALSE(stream.ok());
  EXPECT_EQ(stream.status().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(ExportFingerprint(store_, ExportReader{}, scope_, options_).ok());
}

TEST_F(ExportStreamTest, FingerprintFollowsTheInputs) {
  auto a = ExportFingerprint(store_, ExportReader{}, scope_, options_);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_TRUE(a->starts_with("W/\"")) << *a;
  EXPECT_EQ(*a, *ExportFingerprint(store_, ExportReader{}, scope_, options_));
  // Within the hour: the same; the next hour (valid_until may have passed): another.
  formats::ExportOptions later = options_;
  later.now = *Timestamp::Parse("2026-01-01T10:59:59Z");
  EXPECT_EQ(*a, *ExportFingerprint(store_, ExportReader{}, scope_, later));
  later.now = *Timestamp::Parse("2026-01-01T11:00:00Z");
  EXPECT_NE(*a, *ExportFingerprint(store_, ExportReader{}, scope_, later));
  formats::ExportOptions other = options_;
  other.format = formats::ExportFormat::kZeek;
  EXPECT_NE(*a, *ExportFingerprint(store_, ExportReader{}, scope_, other));
  ExportScope typed = scope_;
  typed.types = {"indicator"};
  EXPECT_NE(*a, *ExportFingerprint(store_, ExportReader{}, typed, options_));
  Add(6000, 6001);  // a new object
  auto b = ExportFingerprint(store_, ExportReader{}, scope_, options_);
  ASSERT_TRUE(b.ok());
  EXPECT_NE(*a, *b);
}

}  // namespace
}  // namespace ctihub::taxii
