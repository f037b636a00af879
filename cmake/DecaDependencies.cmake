# Finds deca's dependencies: Debian's packages by default, or the official
# LibTorch 2.x given through CMAKE_PREFIX_PATH.
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(spdlog REQUIRED)
find_package(Threads REQUIRED)
# SentencePiece ships no CMake config, only a pkg-config file; without
# pkg-config, look for the library and header directly.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(SENTENCEPIECE IMPORTED_TARGET sentencepiece)
endif()
if(TARGET PkgConfig::SENTENCEPIECE)
  add_library(deca_sentencepiece INTERFACE)
  target_link_libraries(deca_sentencepiece INTERFACE PkgConfig::SENTENCEPIECE)
else()
  find_path(SENTENCEPIECE_INCLUDE_DIR sentencepiece_processor.h REQUIRED)
  find_library(SENTENCEPIECE_LIBRARY sentencepiece REQUIRED)
  find_library(SENTENCEPIECE_TRAIN_LIBRARY sentencepiece_train REQUIRED)
  add_library(deca_sentencepiece INTERFACE)
  target_include_directories(deca_sentencepiece INTERFACE ${SENTENCEPIECE_INCLUDE_DIR})
  target_link_libraries(deca_sentencepiece INTERFACE ${SENTENCEPIECE_LIBRARY} ${SENTENCEPIECE_TRAIN_LIBRARY})
endif()

if(DECA_WITH_TORCH)
  find_package(Torch REQUIRED)
  message(STATUS "LibTorch ${Torch_VERSION} from ${Torch_DIR}")
  # The official LibTorch builds export some libstdc++ functions of their own
  # (std::filesystem::remove_all among them), which crash when called from our
  # code. Naming libstdc++ before LibTorch puts it first in the symbol search.
  set(DECA_TORCH_LIBRARIES stdc++ ${TORCH_LIBRARIES})
  # A PyPI wheel's libtorch_cuda.so finds NCCL, cuDNN and the rest in
  # site-packages/nvidia/*/lib through $ORIGIN, which the linker does not
  # expand: it took an older system NCCL instead and reported undefined
  # nccl* symbols. Point it at the wheel's own.
  get_filename_component(_deca_site_packages "${Torch_DIR}/../../../.." ABSOLUTE)
  file(GLOB _deca_wheel_libs LIST_DIRECTORIES true "${_deca_site_packages}/nvidia/*/lib")
  if(_deca_wheel_libs)
    string(REPLACE ";" ":" _deca_wheel_libs "${_deca_wheel_libs}")
    add_link_options("LINKER:-rpath-link,${_deca_wheel_libs}")
  endif()
  # Distributed training's backends. Gloo: LibTorch's ProcessGroupGloo header
  # includes gloo's headers, which Debian ships in libgloo-dev and the official
  # LibTorch does not (Debian's serve for both). NCCL: only a CUDA LibTorch
  # (torch_cuda) with nccl.h at hand.
  find_file(DECA_C10D_GLOO_HEADER torch/csrc/distributed/c10d/ProcessGroupGloo.hpp PATHS ${TORCH_INCLUDE_DIRS} NO_DEFAULT_PATH)
  find_path(DECA_GLOO_INCLUDE_DIR gloo/config.h)
  set(DECA_WITH_GLOO OFF)
  if(DECA_C10D_GLOO_HEADER AND DECA_GLOO_INCLUDE_DIR)
    set(DECA_WITH_GLOO ON)
  endif()
  find_file(DECA_C10D_NCCL_HEADER torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp PATHS ${TORCH_INCLUDE_DIRS} NO_DEFAULT_PATH)
  find_path(DECA_NCCL_INCLUDE_DIR nccl.h PATHS ${CUDAToolkit_INCLUDE_DIRS} /usr/local/cuda/include)
  set(DECA_WITH_NCCL OFF)
  if(TARGET torch_cuda AND DECA_C10D_NCCL_HEADER AND DECA_NCCL_INCLUDE_DIR)
    set(DECA_WITH_NCCL ON)
  endif()
  message(STATUS "Distributed training backends: gloo ${DECA_WITH_GLOO}, nccl ${DECA_WITH_NCCL}")
  set(DECA_WITH_CUDA OFF)
  if(TARGET torch_cuda)
    set(DECA_WITH_CUDA ON)
  endif()
endif()

find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
endif()

# Warnings for deca's own targets.
function(deca_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
endfunction()
