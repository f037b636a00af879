# Finds deca's dependencies: Debian's packages by default, or the official
# LibTorch 2.x given through CMAKE_PREFIX_PATH.
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(spdlog REQUIRED)
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
# SentencePiece ships no CMake config, only a pkg-config file.
pkg_check_modules(SENTENCEPIECE REQUIRED IMPORTED_TARGET sentencepiece)

if(DECA_WITH_TORCH)
  find_package(Torch REQUIRED)
  message(STATUS "LibTorch ${Torch_VERSION} from ${Torch_DIR}")
endif()

find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
endif()

# Warnings for deca's own targets.
function(deca_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
endfunction()
