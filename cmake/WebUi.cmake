# The web console (webui/: TypeScript + Vite + Preact) built by `npm run build` into
# ${CMAKE_BINARY_DIR}/webui-dist, for src/webapi to embed into the binary (no Node at run time).
#
# Sets, for the modules configured after it (src/cli embeds the directory into the binary with
# ctihub_embed_files(ctihub "${CTIHUB_UI_DIST_DIR}" "${CTIHUB_UI_STAMP}"): normal variables,
# which the cache variables of the same names there do not override):
#   CTIHUB_UI_DIST_DIR  the vite output directory (index.html, favicon.svg, assets/*)
#   CTIHUB_UI_STAMP     a file touched after every successful build of that directory: the
#                       dependency to give ctihub_embed_files(<target> <dir> <stamp>)
#   target ctihub_webui  builds it (part of ALL)
# The build reruns when any file under webui/src or webui/public, the HTML entry, the configs
# or the installed packages (node_modules/.package-lock.json, rewritten by `npm ci`) change.
# -DCTIHUB_UI=OFF builds without the console (the server then answers /ui/ with 503).
option(CTIHUB_UI "Build the web console (webui/; needs Node 20 and npm, see scripts/deps.sh)" ON)

set(CTIHUB_UI_SOURCE_DIR ${PROJECT_SOURCE_DIR}/webui)
if(CTIHUB_UI)
  find_program(CTIHUB_NPM npm)
  if(NOT CTIHUB_NPM)
    message(FATAL_ERROR "CTIHUB_UI: npm not found. Install Node 20 and npm (`make deps` says "
                        "how), or configure with -DCTIHUB_UI=OFF to build without the console.")
  endif()
  if(NOT EXISTS ${CTIHUB_UI_SOURCE_DIR}/node_modules/.package-lock.json)
    message(FATAL_ERROR "CTIHUB_UI: webui/node_modules is missing: run `make deps` (npm ci in "
                        "webui/), or configure with -DCTIHUB_UI=OFF.")
  endif()
  file(GLOB_RECURSE ctihub_ui_sources CONFIGURE_DEPENDS ${CTIHUB_UI_SOURCE_DIR}/src/*
       ${CTIHUB_UI_SOURCE_DIR}/public/*)
  set(CTIHUB_UI_DIST_DIR ${CMAKE_BINARY_DIR}/webui-dist)
  set(CTIHUB_UI_STAMP ${CMAKE_BINARY_DIR}/webui-dist.stamp)
  add_custom_command(
    OUTPUT ${CTIHUB_UI_STAMP}
    COMMAND ${CTIHUB_NPM} run --silent build -- --outDir ${CTIHUB_UI_DIST_DIR} --emptyOutDir
            --logLevel warn
    COMMAND ${CMAKE_COMMAND} -E touch ${CTIHUB_UI_STAMP}
    WORKING_DIRECTORY ${CTIHUB_UI_SOURCE_DIR}
    DEPENDS ${ctihub_ui_sources}
            ${CTIHUB_UI_SOURCE_DIR}/index.html
            ${CTIHUB_UI_SOURCE_DIR}/package.json
            ${CTIHUB_UI_SOURCE_DIR}/package-lock.json
            ${CTIHUB_UI_SOURCE_DIR}/tsconfig.json
            ${CTIHUB_UI_SOURCE_DIR}/vite.config.ts
            ${CTIHUB_UI_SOURCE_DIR}/node_modules/.package-lock.json
    COMMENT "Building the web console (tsc + vite) into ${CTIHUB_UI_DIST_DIR}"
    VERBATIM)
  add_custom_target(ctihub_webui ALL DEPENDS ${CTIHUB_UI_STAMP})
endif()
