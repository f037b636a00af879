#include "deca/kernels/lstm_cell.h"

#include "vector_math.h"

namespace deca::kernels {
namespace {

// The loops, their pointers __restrict as parameters (not as a lambda's
// captures, which lose it and leave the loops unvectorised).
DECA_INLINE inline void cell_forward(float* __restrict g4, const float* __restrict c_prev, float* __restrict c_now,
                                     float* __restrict h_now, int64_t h) {
  for (int64_t j = 0; j < h; ++j) {
    const float i = sigmoid_(g4[j]), f = sigmoid_(g4[h + j]), g = tanh_(g4[2 * h + j]), o = sigmoid_(g4[3 * h + j]);
    const float c = f * c_prev[j] + i * g;
    g4[j] = i;
    g4[h + j] = f;
    g4[2 * h + j] = g;
    g4[3 * h + j] = o;
    c_now[j] = c;
    h_now[j] = o * tanh_(c);
  }
}

// The outside gradients' presence as constants: a load under a condition
// inside the loop would keep it from vectorising.
template <bool kGh, bool kGc>
DECA_INLINE inline void cell_backward(const float* __restrict g4, const float* __restrict c_now,
                                      const float* __restrict c_prev, const float* __restrict g_h,
                                      const float* __restrict g_c, const float* __restrict dh_next,
                                      float* __restrict dc_next, float* __restrict d4, int64_t h) {
  for (int64_t j = 0; j < h; ++j) {
    const float i = g4[j], f = g4[h + j], g = g4[2 * h + j], o = g4[3 * h + j];
    const float tc = tanh_(c_now[j]);
    const float dh = dh_next[j] + (kGh ? g_h[j] : 0.0f);
    const float dc = dh * o * (1.0f - tc * tc) + dc_next[j] + (kGc ? g_c[j] : 0.0f);
    d4[j] = dc * g * i * (1.0f - i);
    d4[h + j] = dc * c_prev[j] * f * (1.0f - f);
    d4[2 * h + j] = dc * i * (1.0f - g * g);
    d4[3 * h + j] = dh * tc * o * (1.0f - o);
    dc_next[j] = dc * f;
  }
}

}  // namespace

void lstm_cell(float* g4, const float* c_prev, float* c_now, float* h_now, int64_t h, Isa isa) {
  on_isa(isa, [=]() DECA_INLINE { cell_forward(g4, c_prev, c_now, h_now, h); });
}

void lstm_cell_backward(const float* g4, const float* c_now, const float* c_prev, const float* g_h, const float* g_c,
                        const float* dh_next, float* dc_next, float* d4, int64_t h, Isa isa) {
  on_isa(isa, [=]() DECA_INLINE {
    if (g_h && g_c)
      cell_backward<true, true>(g4, c_now, c_prev, g_h, g_c, dh_next, dc_next, d4, h);
    else if (g_h)
      cell_backward<true, false>(g4, c_now, c_prev, g_h, g_c, dh_next, dc_next, d4, h);
    else if (g_c)
      cell_backward<false, true>(g4, c_now, c_prev, g_h, g_c, dh_next, dc_next, d4, h);
    else
      cell_backward<false, false>(g4, c_now, c_prev, g_h, g_c, dh_next, dc_next, d4, h);
  });
}

}  // namespace deca::kernels
