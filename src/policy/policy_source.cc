#include "policy/policy_source.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

namespace ctihub::policy {
namespace {

class FileSource final : public PolicySource {
 public:
  explicit FileSource(std::string dir) : dir_(std::move(dir)) {}

  std::string Describe() const override { return dir_; }

  Result<std::string> Revision() override { return Fingerprint(); }

  Result<PolicyTexts> Read() override {
    PolicyTexts t;
    t.revision = Fingerprint();
    t.policy_name = Path(kPolicyDocument);
    t.agreements_name = Path(kAgreementsDocument);
    CTIHUB_ASSIGN_OR_RETURN(t.policy, ReadIfExists(t.policy_name));
    CTIHUB_ASSIGN_OR_RETURN(t.agreements, ReadIfExists(t.agreements_name));
    return t;
  }

  Status Write(std::string_view name, const std::optional<std::string>& text,
               const std::string& expected_revision) override {
    if (name != kPolicyDocument && name != kAgreementsDocument) {
      return InvalidArgument("unknown policy document '" + std::string(name) + "'");
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (Fingerprint() != expected_revision) {
      return Conflict("policy_changed", dir_ + ": the policy changed meanwhile");
    }
    const std::string path = Path(name);
    std::error_code ec;
    if (!text) {
      std::filesystem::remove(path, ec);
      if (ec) return Unavailable(path + ": cannot remove: " + ec.message());
      return Status::Ok();
    }
    const std::string tmp = path + ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) return Unavailable(tmp + ": cannot write");
      out << *text;
      out.flush();
      if (!out) return Unavailable(tmp + ": write error");
    }
    std::filesystem::rename(tmp, path, ec);
    if (ec) return Unavailable(path + ": rename failed: " + ec.message());
    return Status::Ok();
  }

 private:
  std::string Path(std::string_view name) const { return dir_ + "/" + std::string(name); }

  std::string Fingerprint() const {
    std::string fp;
    for (std::string_view name : {kPolicyDocument, kAgreementsDocument}) {
      struct stat st {};
      if (::stat(Path(name).c_str(), &st) != 0) {
        fp += "-;";
        continue;
      }
      fp += std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + ":" +
            std::to_string(st.st_size) + ":" + std::to_string(st.st_ino) + ";";
    }
    return fp;
  }

  static Result<std::optional<std::string>> ReadIfExists(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
      if (ec) return Unavailable(path + ": " + ec.message());
      return std::optional<std::string>();
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) return Unavailable(path + ": cannot read");
    std::ostringstream ss;
    ss << in.rdbuf();
    return std::optional<std::string>(ss.str());
  }

  const std::string dir_;
  std::mutex mu_;  // Write's compare-and-set
};

}  // namespace

std::unique_ptr<PolicySource> FilePolicySource(std::string dir) {
  return std::make_unique<FileSource>(std::move(dir));
}

Result<PolicyModel> LoadPolicyFrom(PolicySource& source, const std::vector<KnownOrg>* known_orgs) {
  CTIHUB_ASSIGN_OR_RETURN(PolicyTexts texts, source.Read());
  return LoadPolicyTexts(texts, known_orgs);
}

}  // namespace ctihub::policy
