// ctihub: threat-intelligence exchange hub.
#include <cstdio>
#include <exception>

#include "cli/commands.h"

#ifndef CTIHUB_VERSION
#define CTIHUB_VERSION "0.0.0"
#endif

// Command groups that are not built yet register nothing (weak symbols), so the
// binary links while modules land one by one.
namespace ctihub::cli {
__attribute__((weak)) void RegisterStixCommands(CLI::App&, int*) {}
__attribute__((weak)) void RegisterPatternCommands(CLI::App&, int*) {}
__attribute__((weak)) void RegisterHubCommands(CLI::App&, int*) {}
__attribute__((weak)) void RegisterServeCommand(CLI::App&, int*) {}
__attribute__((weak)) void RegisterAuditCommands(CLI::App&, int*) {}
__attribute__((weak)) void RegisterAgreementCommands(CLI::App&, int*) {}
__attribute__((weak)) void RegisterImportCommand(CLI::App&, int*) {}
__attribute__((weak)) void RegisterPolicyCommands(CLI::App&, int*) {}
__attribute__((weak)) void RegisterRemoteCommands(CLI::App&, int*) {}
__attribute__((weak)) void RegisterPeerCommands(CLI::App&, int*) {}
__attribute__((weak)) void RegisterMatchCommand(CLI::App&, int*) {}
__attribute__((weak)) void RegisterExportCommand(CLI::App&, int*) {}
__attribute__((weak)) void RegisterSyncCommand(CLI::App&, int*) {}
}  // namespace ctihub::cli

namespace {

int Main(int argc, char** argv) {
  CLI::App app{"ctihub: threat-intelligence exchange hub (STIX 2.1, TAXII 2.1)", "ctihub"};
  app.set_version_flag("--version", std::string("ctihub ") + CTIHUB_VERSION);
  app.require_subcommand(1);
  int exit_code = ctihub::cli::kExitOk;
  ctihub::cli::RegisterStixCommands(app, &exit_code);
  ctihub::cli::RegisterPatternCommands(app, &exit_code);
  ctihub::cli::RegisterHubCommands(app, &exit_code);
  ctihub::cli::RegisterServeCommand(app, &exit_code);
  ctihub::cli::RegisterAuditCommands(app, &exit_code);
  ctihub::cli::RegisterAgreementCommands(app, &exit_code);
  ctihub::cli::RegisterImportCommand(app, &exit_code);
  ctihub::cli::RegisterPolicyCommands(app, &exit_code);
  ctihub::cli::RegisterRemoteCommands(app, &exit_code);
  ctihub::cli::RegisterPeerCommands(app, &exit_code);
  ctihub::cli::RegisterMatchCommand(app, &exit_code);
  ctihub::cli::RegisterExportCommand(app, &exit_code);
  ctihub::cli::RegisterSyncCommand(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : ctihub::cli::kExitError;
  }
  return exit_code;
}

}  // namespace

// Any other exception (from CLI11 while the commands are registered, or from a command) ends
// the process with a message and the error exit code, never with std::terminate.
int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ctihub: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "ctihub: unknown exception\n");
  }
  return ctihub::cli::kExitError;
}
