// Implementation of hub_context.h (named cmd_*.cc so the CLI target's glob
// compiles it).
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>

#include "cli/hub_context.h"
#include "core/durable_file.h"
#include "core/uuid.h"
#include "store/postgres/postgres_store.h"

namespace ctihub::cli {

namespace fs = std::filesystem;

std::string DatabasePath(const std::string& data_dir) {
  return (fs::path(data_dir) / kDatabaseFile).string();
}

Result<std::unique_ptr<DataDirLock>> DataDirLock::Acquire(const std::string& data_dir) {
  const std::string path = (fs::path(data_dir) / "serve.lock").string();
  std::string pid;
  auto lock = FileLock::Acquire(path, &pid);
  if (!lock.ok()) {
    if (lock.status().code() != ErrorCode::kConflict) return lock.status();
    return Conflict("data directory " + data_dir + " is in use by another ctihub serve (pid " +
                    (pid.empty() ? std::string("unknown") : pid) + ", lock " + path + ")");
  }
  return std::unique_ptr<DataDirLock>(new DataDirLock(std::move(*lock)));
}

std::string StoreDescription(const std::string& data_dir, const std::string& db_url) {
  if (db_url.empty()) return DatabasePath(data_dir);
  // postgresql://user:secret@host/db -> postgresql://user@host/db
  const size_t scheme = db_url.find("://");
  const size_t at = db_url.find('@');
  const size_t colon = db_url.find(':', scheme == std::string::npos ? 0 : scheme + 3);
  if (scheme != std::string::npos && at != std::string::npos && colon < at) {
    return db_url.substr(0, colon) + db_url.substr(at);
  }
  return db_url;
}

namespace {

Result<std::optional<std::string>> ReadNodeId(const std::string& path) {
  CTIHUB_ASSIGN_OR_RETURN(auto text, ReadFileIfPresent(path, "bad_node_id"));
  if (!text) return std::optional<std::string>();
  std::string id = *text;
  while (!id.empty() && (id.back() == '\n' || id.back() == '\r')) id.pop_back();
  auto uuid = Uuid::Parse(id);
  if (!uuid.ok()) {
    return Unavailable("bad_node_id", path + " does not hold a node id (a UUID): restore it");
  }
  return std::optional<std::string>(uuid->ToString());
}

// The policy documents a PostgreSQL store keeps (store.h PolicyDocuments).
class StorePolicySource final : public policy::PolicySource {
 public:
  explicit StorePolicySource(store::Store& hub) : hub_(hub) {}

  std::string Describe() const override { return "the database"; }

  Result<std::string> Revision() override {
    CTIHUB_ASSIGN_OR_RETURN(int64_t revision, hub_.PolicyDocumentsRevision());
    return std::to_string(revision);
  }

  Result<policy::PolicyTexts> Read() override {
    CTIHUB_ASSIGN_OR_RETURN(store::PolicyDocuments docs, hub_.ReadPolicyDocuments());
    policy::PolicyTexts t;
    t.revision = std::to_string(docs.revision);
    t.policy_name = "database:" + std::string(policy::kPolicyDocument);
    t.agreements_name = "database:" + std::string(policy::kAgreementsDocument);
    for (auto& d : docs.documents) {
      if (d.name == policy::kPolicyDocument) t.policy = std::move(d.text);
      if (d.name == policy::kAgreementsDocument) t.agreements = std::move(d.text);
    }
    return t;
  }

  Status Write(std::string_view name, const std::optional<std::string>& text,
               const std::string& expected_revision) override {
    int64_t expected = -1;
    const char* end = expected_revision.data() + expected_revision.size();
    if (std::from_chars(expected_revision.data(), end, expected).ptr != end) {
      return Conflict("policy_changed", "not a revision of the database's policy documents");
    }
    return hub_.PutPolicyDocument(name, text, expected).status();
  }

 private:
  store::Store& hub_;
};

}  // namespace

Result<std::string> NodeIdOf(const std::string& data_dir) {
  const std::string path = (fs::path(data_dir) / kNodeIdFile).string();
  CTIHUB_ASSIGN_OR_RETURN(auto existing, ReadNodeId(path));
  if (existing) return *existing;
  // Written whole under a name of this process, then linked into place: link()
  // fails when another process got there first, and its id is the one.
  const std::string id = Uuid::V4().ToString();
  const std::string tmp = path + "." + std::to_string(::getpid()) + ".new";
  CTIHUB_RETURN_IF_ERROR(WriteFileDurably(tmp, id + "\n", "bad_node_id"));
  const int linked = ::link(tmp.c_str(), path.c_str());
  const int link_errno = errno;
  ::unlink(tmp.c_str());
  if (linked != 0 && link_errno != EEXIST) {
    return Unavailable("bad_node_id", "cannot create " + path);
  }
  CTIHUB_ASSIGN_OR_RETURN(auto made, ReadNodeId(path));
  if (!made) return Unavailable("bad_node_id", "cannot create " + path);
  return *made;
}

std::unique_ptr<policy::PolicySource> HubPolicySource(const std::string& data_dir,
                                                      store::Store* hub) {
  if (hub != nullptr && hub->KeepsPolicyDocuments()) {
    return std::make_unique<StorePolicySource>(*hub);
  }
  return policy::FilePolicySource(data_dir);
}

std::chrono::milliseconds PolicyCheckInterval(const store::Store& hub) {
  return hub.KeepsPolicyDocuments() ? kDatabasePolicyCheck : std::chrono::milliseconds(0);
}

Result<std::vector<policy::KnownOrg>> KnownOrganisations(store::Store& hub) {
  CTIHUB_ASSIGN_OR_RETURN(auto orgs, hub.ListOrganisations());
  std::vector<policy::KnownOrg> known;
  known.reserve(orgs.size());
  for (const auto& o : orgs) known.push_back({o.name, o.identity_id});
  return known;
}

Result<std::unique_ptr<store::Store>> OpenHubStore(const std::string& data_dir,
                                                   const HubOpenOptions& opts) {
  if (data_dir.empty()) return InvalidArgument("empty data directory");
  std::error_code ec;
  std::string db = DatabasePath(data_dir);
  if (opts.create) {
    if (!fs::exists(data_dir, ec)) {
      fs::create_directories(data_dir, ec);
      if (ec) return Internal("cannot create " + data_dir + ": " + ec.message());
      // The database holds password and token hashes: keep it private.
      fs::permissions(data_dir, fs::perms::owner_all, fs::perm_options::replace, ec);
    } else if (!fs::is_directory(data_dir, ec)) {
      return InvalidArgument(data_dir + " exists and is not a directory");
    }
  } else if (!opts.db_url.empty()) {
    if (!fs::is_directory(data_dir, ec)) {
      return NotFound("no hub data directory " + data_dir + " (run `ctihub init --data " +
                      data_dir + " --db URL`)");
    }
  } else if (!fs::exists(db, ec)) {
    return NotFound("no hub database at " + db + " (run `ctihub init --data " + data_dir + "`)");
  }
  if (!opts.db_url.empty() && !store::IsPostgresUrl(opts.db_url)) {
    return InvalidArgument("bad_db_url", "--db takes a postgresql:// URL");
  }
  CTIHUB_ASSIGN_OR_RETURN(std::string node_id, NodeIdOf(data_dir));
  if (!opts.db_url.empty()) {
    store::PostgresOptions po;
    po.url = opts.db_url;
    po.node_id = node_id;
    po.reader_connections = opts.reader_connections;
    po.max_batch_objects = opts.max_batch_objects;
    po.migrate = opts.migrate;
    return store::OpenPostgresStore(po);
  }
  store::SqliteOptions so;
  so.path = db;
  so.node_id = node_id;
  so.reader_connections = opts.reader_connections;
  so.max_batch_objects = opts.max_batch_objects;
  return store::OpenSqliteStore(so);
}

}  // namespace ctihub::cli
