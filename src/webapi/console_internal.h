// Pieces of console.cc exposed for its unit tests.
#pragma once

#include <span>
#include <string_view>

#include "webapi/embedded.h"

namespace ctihub::taxii {
struct Response;
}

namespace ctihub::webapi {

// The file /ui/<rel> serves: the file itself, else (client-side routes)
// index.html; a missing file under assets/ is nullptr (404). `immutable`: a
// hashed asset (long caching).
struct UiAnswer {
  const EmbeddedFile* file = nullptr;
  bool immutable = false;
};
UiAnswer FindUiFile(std::span<const EmbeddedFile> files, std::string_view rel);

void AddSecurityHeaders(taxii::Response& r, bool tls);

}  // namespace ctihub::webapi
