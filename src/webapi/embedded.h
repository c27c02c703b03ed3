// The web console's built files, embedded in the binary at build time.
//
// cmake/EmbedFiles.cmake's ctihub_embed_files(<target> <dir> <stamp>) generates
// the definition of EmbeddedUi() from a directory (the vite build of webui/):
// one byte array per file. A binary built without the UI links
// ui_not_built.cc instead, whose table is empty (the console then answers 503
// ui_not_built). Kept free of heavy includes: the generated file includes it.
#pragma once

#include <span>
#include <string_view>

namespace ctihub::webapi {

struct EmbeddedFile {
  std::string_view path;  // relative to the embedded directory, '/'-separated: "assets/app.js"
  std::string_view content_type;
  std::string_view body;
};

// Sorted by path. Empty when the binary was built without the UI.
std::span<const EmbeddedFile> EmbeddedUi();

}  // namespace ctihub::webapi
