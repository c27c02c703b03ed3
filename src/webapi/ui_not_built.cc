// EmbeddedUi() of a binary configured without CTIHUB_UI_DIST_DIR: no files,
// so /ui/ answers 503 ui_not_built instead of pretending (see embedded.h).
#include "webapi/embedded.h"

namespace ctihub::webapi {

std::span<const EmbeddedFile> EmbeddedUi() { return {}; }

}  // namespace ctihub::webapi
