// PolicySource: where the sharing policy's two TOML documents are kept.
//
// The documents are policy.toml (hand-written, optional) and agreements.toml
// (written by `ctihub agreement add|revoke` and the console). An embedded
// (SQLite) hub keeps them as files in its data directory (FilePolicySource);
// a PostgreSQL deployment keeps them in the database, so that every node
// reads the same ones (cli/hub_context.h HubPolicySource, over the store's
// policy documents). The text is the same TOML either way, parsed by the one
// loader (model.h LoadPolicyTexts).
//
// A source has a revision: a value that changes whenever a document does,
// cheap to read, which PolicyHolder compares to notice a change and which
// writes compare-and-set against, so that two concurrent edits (two nodes,
// a node and the CLI) never lose one.
//
// Thread-safety: implementations may be called from any thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "policy/model.h"

namespace ctihub::policy {

// The documents' names (PolicySource::Write, the store's document names).
inline constexpr std::string_view kPolicyDocument = "policy.toml";
inline constexpr std::string_view kAgreementsDocument = "agreements.toml";

class PolicySource {
 public:
  virtual ~PolicySource() = default;

  // What messages call this source ("DIR", "the database").
  virtual std::string Describe() const = 0;

  // A value that changes whenever a document does. Cheap: PolicyHolder calls
  // it on the request path (at most once per check interval). An error (a
  // database that cannot be reached) says nothing about the documents.
  virtual Result<std::string> Revision() = 0;

  // Both documents, as of `PolicyTexts::revision`.
  virtual Result<PolicyTexts> Read() = 0;

  // Replaces document `name` (kPolicyDocument or kAgreementsDocument) with
  // `text` (nullopt: removes it) if the source's revision is still
  // `expected_revision`; Conflict "policy_changed" otherwise (someone else
  // changed a document since it was read: read again and redo the change).
  virtual Status Write(std::string_view name, const std::optional<std::string>& text,
                       const std::string& expected_revision) = 0;
};

// The files DIR/policy.toml and DIR/agreements.toml. The revision is a
// fingerprint of both files (mtime, size, inode: two stat calls). Write
// replaces the file atomically (temp file + rename); its compare-and-set
// holds within the process (one mutex), not against another process.
std::unique_ptr<PolicySource> FilePolicySource(std::string dir);

// The whole policy of `source` (policy.toml optional), with the store's
// organisations merged when `known_orgs` is set.
Result<PolicyModel> LoadPolicyFrom(PolicySource& source, const std::vector<KnownOrg>* known_orgs);

}  // namespace ctihub::policy
