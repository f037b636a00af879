# Run at every build (src/CMakeLists.txt): writes OUTPUT, the source of
# deca::version() and deca::build_commit(), when what it would write changed,
# so that a new commit relinks the executables and nothing else rebuilds.
#   cmake -DSOURCE_DIR=... -DOUTPUT=... -DVERSION=... -P version.cmake
set(commit "unknown")
find_package(Git QUIET)
if(GIT_FOUND AND EXISTS "${SOURCE_DIR}/.git")
  execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${SOURCE_DIR}" describe --always --dirty --abbrev=12 --exclude=*
                  OUTPUT_VARIABLE described OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE failed ERROR_QUIET)
  if(NOT failed AND described)
    set(commit "${described}")
  endif()
endif()
set(text "// Written by cmake/version.cmake at build time.\n#include \"deca/core/version.h\"\n\nnamespace deca {\n\nconst char* version() { return \"${VERSION}\"; }\nconst char* build_commit() { return \"${commit}\"; }\n\n}  // namespace deca\n")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUTPUT}" "${text}")
endif()
