// `ctihub policy check`: loads the sharing policy of a data directory exactly
// as `ctihub serve` does (DATA/policy.toml, the hub's organisations,
// DATA/agreements.toml) and says whether it loads. A running hub that finds
// its files broken keeps its last good policy and reports
// `policy_reload_failed` on /healthz and /metrics: this command says why.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/hub_context.h"
#include "policy/model.h"

namespace ctihub::cli {
namespace {

int Fail(const std::string& msg) {
  std::fprintf(stderr, "ctihub policy: %s\n", msg.c_str());
  return kExitError;
}

// Exit 0 when the policy loads, 1 when it does not (reason on stderr), 2
// when the hub itself cannot be read.
int CheckPolicy(const std::string& data) {
  auto store = OpenHubStore(data);
  if (!store.ok()) return Fail(store.status().NamedMessage());
  auto known = KnownOrganisations(**store);
  if (!known.ok()) return Fail("reading the hub's organisations: " + known.status().NamedMessage());
  auto model = policy::LoadPolicyDir(data, /*allow_missing=*/true, *known);
  if (!model.ok()) {
    std::fprintf(stderr,
                 "ctihub policy: %s\n"
                 "ctihub policy: the policy does not load: `ctihub serve` refuses to start on it, "
                 "and a running hub keeps its last good policy and reports policy_reload_failed "
                 "on /healthz and /metrics\n",
                 model.status().NamedMessage().c_str());
    return kExitNegative;
  }
  std::printf("ok: %zu organisations, %zu communities, %zu agreements, %zu collections\n",
              model->organisations.size(), model->communities.size(), model->agreements.size(),
              model->collections.size());
  return kExitOk;
}

}  // namespace

void RegisterPolicyCommands(CLI::App& app, int* exit_code) {
  CLI::App* policy = app.add_subcommand("policy", "check and explain the sharing policy");
  policy->require_subcommand(1);
  auto data = std::make_shared<std::string>(kDefaultDataDir);
  CLI::App* check = policy->add_subcommand(
      "check",
      "load DATA/policy.toml and DATA/agreements.toml as the server does; exit 0 ok, "
      "1 it does not load (FILE:LINE:COLUMN: reason), 2 error");
  check->add_option("--data", *data, "hub data directory")->capture_default_str();
  check->callback([exit_code, data] { *exit_code = CheckPolicy(*data); });
  RegisterPolicyExplain(*policy, exit_code);
}

}  // namespace ctihub::cli
