// `ctihub remote`: talks to any TAXII 2.1 server with the taxii_client module,
// for operators checking a partner's server before adding it as a peer, and for
// the end-to-end tests of the client:
//   remote discover URL               discovery + the API root it resolves to
//   remote collections URL            the collections of that API root
//   remote objects URL --collection   every object (JSON Lines on stdout)
//   remote manifest URL --collection  every manifest entry (JSON Lines)
//   remote push URL --collection FILE...  POST the objects, wait for the status
// URL is a discovery or an API root URL. The summary goes to stderr. Exit 0 ok,
// 1 (push) some objects refused, 2 error (the message names the reason).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/remote_client.h"
#include "core/json.h"
#include "stix/bundle_reader.h"
#include "taxii_client/client.h"

namespace ctihub::cli {
namespace {

namespace tc = taxii_client;

struct RemoteArgs {
  std::string url;
  RemoteConnection conn;
  // objects / manifest
  std::string collection;
  std::string added_after;
  int64_t limit = 0;
  std::vector<std::string> types;
  // push
  std::vector<std::string> files;
  int64_t batch_objects = 1000;
};

int Fail(const Status& st) {
  std::fprintf(stderr, "ctihub remote: %s\n", st.ToString().c_str());
  return kExitError;
}

Result<std::unique_ptr<tc::Client>> MakeClient(const RemoteArgs& a) {
  CTIHUB_ASSIGN_OR_RETURN(tc::ClientOptions o, RemoteClientOptions(a.conn, "ctihub remote"));
  return tc::Client::Create(a.url, std::move(o));
}

void AddConnectionOptions(CLI::App* cmd, RemoteArgs* a) {
  cmd->add_option("url", a->url, "discovery or API root URL (http:// or https://)")->required();
  AddRemoteCredentialOptions(cmd, &a->conn);
  cmd->add_option("--timeout", a->conn.timeout_s, "seconds for the whole command (default 3600)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--request-timeout", a->conn.request_timeout_s,
                  "seconds for one request (default 60)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--attempts", a->conn.attempts,
                  "attempts per request, retries included (default 4)")
      ->check(CLI::Range(1, 100));
  cmd->add_option("--max-pages", a->conn.max_pages, "stop with an error after this many pages")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  cmd->add_option("--max-response-bytes", a->conn.max_response_bytes,
                  "largest response accepted (default 64 MiB)")
      ->check(CLI::Range(int64_t{1024}, int64_t{1} << 34));
}

void AddPagingOptions(CLI::App* cmd, RemoteArgs* a) {
  cmd->add_option("--collection", a->collection, "collection id on the server")->required();
  cmd->add_option("--added-after", a->added_after, "only objects added after this RFC 3339 time");
  cmd->add_option("--limit", a->limit, "page size asked of the server")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30));
  cmd->add_option("--type", a->types, "only objects of this type (repeatable)");
}

tc::PageQuery QueryOf(const RemoteArgs& a) {
  tc::PageQuery q;
  q.added_after = a.added_after;
  q.limit = a.limit;
  if (!a.types.empty()) {
    std::string joined;
    for (const auto& t : a.types) joined += (joined.empty() ? "" : ",") + t;
    q.filters.emplace_back("match[type]", joined);
  }
  return q;
}

int RunDiscover(const RemoteArgs& a) {
  auto client = MakeClient(a);
  if (!client.ok()) return Fail(client.status());
  auto root = (*client)->ResolveApiRoot();
  if (!root.ok()) return Fail(root.status());
  std::printf("api_root\t%s\t%s\n", root->url.ToString().c_str(), root->info.title.c_str());
  for (const auto& v : root->info.versions) std::printf("version\t%s\n", v.c_str());
  if (root->info.max_content_length > 0)
    std::printf("max_content_length\t%lld\n",
                static_cast<long long>(root->info.max_content_length));
  return kExitOk;
}

int RunCollections(const RemoteArgs& a) {
  auto client = MakeClient(a);
  if (!client.ok()) return Fail(client.status());
  auto root = (*client)->ResolveApiRoot();
  if (!root.ok()) return Fail(root.status());
  auto cols = (*client)->Collections(root->url);
  if (!cols.ok()) return Fail(cols.status());
  for (const auto& c : *cols)
    std::printf("%s\t%s%s\t%s\n", c.id.c_str(), c.can_read ? "r" : "-", c.can_write ? "w" : "-",
                c.title.c_str());
  return kExitOk;
}

void PrintSummary(const tc::PagingSummary& s, const char* what) {
  std::fprintf(stderr, "%lld %s in %lld pages; last date_added %s\n",
               static_cast<long long>(s.items), what, static_cast<long long>(s.pages),
               s.last_date_added.empty() ? "-" : s.last_date_added.c_str());
}

int RunObjects(const RemoteArgs& a) {
  auto client = MakeClient(a);
  if (!client.ok()) return Fail(client.status());
  auto root = (*client)->ResolveApiRoot();
  if (!root.ok()) return Fail(root.status());
  auto summary =
      (*client)->GetObjects(root->url, a.collection, QueryOf(a), [](const tc::ObjectsPage& page) {
        for (const auto& o : page.objects) std::printf("%s\n", o.text.c_str());
        std::fflush(stdout);
        return Status::Ok();
      });
  if (!summary.ok()) return Fail(summary.status());
  PrintSummary(*summary, "objects");
  return kExitOk;
}

int RunManifest(const RemoteArgs& a) {
  auto client = MakeClient(a);
  if (!client.ok()) return Fail(client.status());
  auto root = (*client)->ResolveApiRoot();
  if (!root.ok()) return Fail(root.status());
  auto summary =
      (*client)->GetManifest(root->url, a.collection, QueryOf(a), [](const tc::ManifestPage& page) {
        for (const auto& e : page.entries) {
          std::string line;
          json::JsonWriter w(line);
          w.BeginObject()
              .Key("id")
              .String(e.id)
              .Key("date_added")
              .String(e.date_added)
              .Key("version")
              .String(e.version)
              .Key("media_type")
              .String(e.media_type)
              .EndObject();
          std::printf("%s\n", line.c_str());
        }
        return Status::Ok();
      });
  if (!summary.ok()) return Fail(summary.status());
  PrintSummary(*summary, "manifest entries");
  return kExitOk;
}

// Reads every object of the files (bundles, arrays or single objects, streamed).
Result<std::vector<std::string>> ReadObjects(const std::vector<std::string>& files) {
  std::vector<std::string> out;
  for (const auto& path : files) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!f) return InvalidArgument("cannot_open", path + ": cannot open");
    stix::BundleReader reader(f.get());
    for (;;) {
      auto next = reader.Next();
      if (!next.ok()) return next.status().WithContext(path);
      if (next->empty()) break;
      out.emplace_back(*next);
    }
  }
  return out;
}

int RunPush(const RemoteArgs& a) {
  auto objects = ReadObjects(a.files);
  if (!objects.ok()) return Fail(objects.status());
  auto client = MakeClient(a);
  if (!client.ok()) return Fail(client.status());
  auto root = (*client)->ResolveApiRoot();
  if (!root.ok()) return Fail(root.status());
  int64_t ok = 0, failed = 0;
  for (size_t start = 0; start < objects->size(); start += static_cast<size_t>(a.batch_objects)) {
    const size_t end = std::min(objects->size(), start + static_cast<size_t>(a.batch_objects));
    std::vector<std::string> batch(objects->begin() + static_cast<std::ptrdiff_t>(start),
                                   objects->begin() + static_cast<std::ptrdiff_t>(end));
    auto status = (*client)->AddObjects(root->url, a.collection, tc::BuildEnvelope(batch));
    if (!status.ok()) return Fail(status.status());
    ok += status->success_count;
    failed += status->failure_count;
    for (const auto& f : status->failures)
      std::fprintf(stderr, "refused %s %s: %s\n", f.id.c_str(), f.version.c_str(),
                   f.message.c_str());
  }
  std::printf("pushed %lld, refused %lld\n", static_cast<long long>(ok),
              static_cast<long long>(failed));
  return failed ? kExitNegative : kExitOk;
}

}  // namespace

static Result<std::string> ReadSecretLine(const char* what) {
  std::string line;
  if (!std::getline(std::cin, line)) line.clear();
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) return InvalidArgument(std::string("empty ") + what + " on stdin");
  return line;
}

void AddRemoteCredentialOptions(CLI::App* cmd, RemoteConnection* c) {
  cmd->add_option("--user", c->user, "HTTP Basic user (with --password-stdin)");
  cmd->add_flag("--password-stdin", c->password_stdin, "read the Basic password from stdin");
  cmd->add_flag("--token-stdin", c->token_stdin, "read a Bearer token from stdin");
  cmd->add_option("--ca-file", c->ca_file, "PEM file of CA certificates to trust")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--insecure-tls", c->insecure_tls,
                "do not verify the server's certificate (testing only)");
}

Result<tc::ClientOptions> RemoteClientOptions(const RemoteConnection& c, const char* command) {
  tc::ClientOptions o;
  if (c.password_stdin && c.token_stdin)
    return InvalidArgument("give --password-stdin or --token-stdin, not both");
  if (c.password_stdin) {
    if (c.user.empty()) return InvalidArgument("--password-stdin needs --user");
    CTIHUB_ASSIGN_OR_RETURN(o.credentials.password, ReadSecretLine("password"));
    o.credentials.user = c.user;
  } else if (c.token_stdin) {
    CTIHUB_ASSIGN_OR_RETURN(o.credentials.token, ReadSecretLine("token"));
  } else if (!c.user.empty()) {
    return InvalidArgument("--user needs --password-stdin");
  }
  o.tls.ca_file = c.ca_file;
  o.tls.insecure_tls = c.insecure_tls;
  o.operation_timeout = std::chrono::milliseconds(static_cast<int64_t>(c.timeout_s * 1000));
  o.request_timeout = std::chrono::milliseconds(static_cast<int64_t>(c.request_timeout_s * 1000));
  o.transport.connect_timeout = std::min(o.request_timeout, o.transport.connect_timeout);
  o.max_attempts = c.attempts;
  o.max_pages = c.max_pages;
  o.transport.max_response_bytes = static_cast<size_t>(c.max_response_bytes);
  if (c.insecure_tls)
    std::fprintf(stderr, "%s: warning: TLS certificates are not verified\n", command);
  return o;
}

void RegisterRemoteCommands(CLI::App& app, int* exit_code) {
  auto* remote = app.add_subcommand("remote", "talk to a remote TAXII 2.1 server (client)");
  remote->require_subcommand(1);
  auto args = std::make_shared<RemoteArgs>();
  struct Sub {
    const char* name;
    const char* help;
    int (*run)(const RemoteArgs&);
    bool paging;
  };
  const Sub subs[] = {
      {"discover", "resolve the API root of a discovery or API root URL", RunDiscover, false},
      {"collections", "list the collections of the API root", RunCollections, false},
      {"objects", "print every object of a collection (JSON Lines)", RunObjects, true},
      {"manifest", "print the manifest of a collection (JSON Lines)", RunManifest, true},
  };
  for (const Sub& s : subs) {
    auto* cmd = remote->add_subcommand(s.name, s.help);
    AddConnectionOptions(cmd, args.get());
    if (s.paging) AddPagingOptions(cmd, args.get());
    cmd->callback([args, exit_code, run = s.run] { *exit_code = run(*args); });
  }
  auto* push = remote->add_subcommand("push", "POST the objects of STIX files to a collection");
  AddConnectionOptions(push, args.get());
  push->add_option("--collection", args->collection, "collection id on the server")->required();
  push->add_option("--batch", args->batch_objects, "objects per POST (default 1000)")
      ->check(CLI::Range(int64_t{1}, int64_t{100000}));
  push->add_option("files", args->files, "STIX bundle files")->required()->check(CLI::ExistingFile);
  push->callback([args, exit_code] { *exit_code = RunPush(*args); });
}

}  // namespace ctihub::cli
