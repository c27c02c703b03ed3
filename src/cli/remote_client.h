// How a command line names a remote TAXII 2.1 server's connection settings,
// shared by `ctihub remote` and `ctihub match --indicators taxii:URL` so both
// take the same options and read secrets the same way: a password or token is
// read from the first line of stdin (--password-stdin, --token-stdin), never
// taken from argv, and never appears in a message. The client itself is
// src/taxii_client (the only one). Implemented in cmd_remote.cc.
// Not thread-safe (reads stdin).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "core/result.h"
#include "taxii_client/client.h"

namespace ctihub::cli {

struct RemoteConnection {
  std::string user;  // HTTP Basic, with password_stdin
  bool password_stdin = false;
  bool token_stdin = false;
  std::string ca_file;
  bool insecure_tls = false;
  double timeout_s = 3600;  // the whole operation
  double request_timeout_s = 60;
  int attempts = 4;
  int64_t max_pages = 1'000'000;
  int64_t max_response_bytes = 64 << 20;

  // True when any credential or TLS option was given.
  bool AnyGiven() const {
    return !user.empty() || password_stdin || token_stdin || !ca_file.empty() || insecure_tls;
  }
  bool ReadsStdin() const { return password_stdin || token_stdin; }
};

// --user, --password-stdin, --token-stdin, --ca-file, --insecure-tls.
void AddRemoteCredentialOptions(CLI::App* cmd, RemoteConnection* c);

// The TAXII client options: credentials (a secret read from stdin now), TLS,
// timeouts and limits. `command` prefixes the warning printed on stderr when
// TLS is not verified. Errors (InvalidArgument): both secrets asked for, a user
// without a password or the reverse, an empty secret on stdin.
Result<taxii_client::ClientOptions> RemoteClientOptions(const RemoteConnection& c,
                                                        const char* command);

}  // namespace ctihub::cli
