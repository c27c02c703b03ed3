// Command registration for the ctihub CLI. Each cmd_*.cc defines one Register*
// function; main.cc calls them. Exit codes: 0 ok, 1 negative result, 2 error.
#pragma once

#include <CLI/CLI.hpp>

namespace ctihub::cli {

constexpr int kExitOk = 0;
constexpr int kExitNegative = 1;
constexpr int kExitError = 2;

// Each registers its subcommands on `app`; the callback stores the exit code in *exit_code.
void RegisterStixCommands(CLI::App& app, int* exit_code);     // validate, stix id
void RegisterPatternCommands(CLI::App& app, int* exit_code);  // pattern validate|match
void RegisterHubCommands(CLI::App& app,
                         int* exit_code);  // init, serve, org, user, token, collection

}  // namespace ctihub::cli

namespace ctihub::cli {
void RegisterServeCommand(CLI::App& app, int* exit_code);       // serve
void RegisterAuditCommands(CLI::App& app, int* exit_code);      // audit verify|show|who-saw
void RegisterAgreementCommands(CLI::App& app, int* exit_code);  // agreement add|list|show|revoke
void RegisterImportCommand(CLI::App& app, int* exit_code);      // import (alias load-bundle)
void RegisterPolicyCommands(CLI::App& app, int* exit_code);     // policy check|explain
void RegisterPolicyExplain(CLI::App& policy, int* exit_code);   // policy explain
void RegisterRemoteCommands(CLI::App& app, int* exit_code);     // remote (TAXII client)
void RegisterPeerCommands(CLI::App& app, int* exit_code);       // peer add|list|show|remove|check
void RegisterMatchCommand(CLI::App& app, int* exit_code);       // match (bulk matcher)
void RegisterExportCommand(CLI::App& app, int* exit_code);      // export
void RegisterSyncCommand(CLI::App& app, int* exit_code);        // sync (peers, one pass)
}  // namespace ctihub::cli
