// The C interface of libdeca_spm (see spm_shim.cpp). Counts returned by the
// encode/decode/id_to_piece functions are the full sizes: when larger than the
// caller's capacity, the caller retries with a bigger buffer. -1 is an error.
#pragma once

#include <cstddef>

extern "C" {
void* deca_spm_load(const char* model_path, char* error, size_t error_cap);
void deca_spm_free(void* handle);
int deca_spm_vocab_size(const void* handle);
void deca_spm_special_ids(const void* handle, int* unk, int* bos, int* eos, int* pad);
long deca_spm_encode(const void* handle, const char* text, size_t length, int* ids, size_t capacity);
long deca_spm_decode(const void* handle, const int* ids, size_t count, char* text, size_t capacity);
long deca_spm_id_to_piece(const void* handle, int id, char* text, size_t capacity);
int deca_spm_train(const char* args, unsigned int seed, char* error, size_t error_cap);
}
