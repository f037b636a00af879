// The element-wise part of one LSTM step for one row (model/recurrence.cpp
// runs the matrix products around it), vectorised for `isa`.
#pragma once

#include <cstdint>

#include "deca/kernels/isa.h"

namespace deca::kernels {

// g4: the gate pre-activations (i, f, g, o; 4h), replaced by their
// activations; writes the new cell c_now and output h_now (h each).
void lstm_cell(float* g4, const float* c_prev, float* c_now, float* h_now, int64_t h, Isa isa = active_isa());

// The gradients of one row's gate pre-activations into d4 (4h) from the saved
// activations g4, the cells and the gradients of the output and cell (g_h,
// g_c null: none from outside); dc_next becomes the cell gradient of the step
// before.
void lstm_cell_backward(const float* g4, const float* c_now, const float* c_prev, const float* g_h, const float* g_c,
                        const float* dh_next, float* dc_next, float* d4, int64_t h, Isa isa = active_isa());

}  // namespace deca::kernels
