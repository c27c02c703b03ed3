# ctihub_embed_files(<target> <dir> <stamp-dependency> [more dependencies...])
#
# Embeds every file under <dir> into <target>: at build time (the directory may
# be produced by an earlier build step, e.g. vite's output), a generated .cc
# defines ctihub::webapi::EmbeddedUi() (src/webapi/embedded.h) with one byte
# array per file, its path relative to <dir> and its content type. The file is
# regenerated when <stamp-dependency> (a file or a target's output that changes
# whenever <dir> does) is newer. File names must be plain (letters, digits,
# . _ - @ + ~ and /): anything else fails the build rather than be escaped.
set(CTIHUB_EMBED_GENERATOR ${CMAKE_CURRENT_LIST_DIR}/EmbedFilesGenerate.cmake)

function(ctihub_embed_files target dir stamp)
  get_filename_component(abs_dir "${dir}" ABSOLUTE)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${target}_embedded_files.cc)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DDIR=${abs_dir} -DOUT=${out} -P ${CTIHUB_EMBED_GENERATOR}
    DEPENDS ${stamp} ${ARGN} ${CTIHUB_EMBED_GENERATOR}
    COMMENT "Embedding ${abs_dir} into ${target}"
    VERBATIM)
  target_sources(${target} PRIVATE ${out})
endfunction()
