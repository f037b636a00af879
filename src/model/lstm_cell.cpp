#include "deca/model/lstm_cell.h"

#include "cloned.h"

#include <cmath>

namespace deca::model::cpu {
namespace {
// -ffast-math assumes no infinities: arguments are clamped where the results
// are already 0, 1 or -1 in float (exp(-x) overflows past x < -88).
inline float clamp(float x, float bound) { return std::fmin(std::fmax(x, -bound), bound); }
inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-clamp(x, 80.0f))); }
inline float tanh_(float x) { return std::tanh(clamp(x, 20.0f)); }
}  // namespace

DECA_CLONED
void lstm_cell(float* __restrict g4, const float* __restrict c_prev, float* __restrict c_now, float* __restrict h_now,
               int64_t h) {
  for (int64_t j = 0; j < h; ++j) {
    const float i = sigmoid(g4[j]), f = sigmoid(g4[h + j]), g = tanh_(g4[2 * h + j]), o = sigmoid(g4[3 * h + j]);
    const float c = f * c_prev[j] + i * g;
    g4[j] = i;
    g4[h + j] = f;
    g4[2 * h + j] = g;
    g4[3 * h + j] = o;
    c_now[j] = c;
    h_now[j] = o * tanh_(c);
  }
}

DECA_CLONED
void lstm_cell_backward(const float* __restrict g4, const float* __restrict c_now, const float* __restrict c_prev,
                        const float* __restrict g_h, const float* __restrict g_c, const float* __restrict dh_next,
                        float* __restrict dc_next, float* __restrict d4, int64_t h) {
  for (int64_t j = 0; j < h; ++j) {
    const float i = g4[j], f = g4[h + j], g = g4[2 * h + j], o = g4[3 * h + j];
    const float tc = tanh_(c_now[j]);
    const float dh = dh_next[j] + (g_h ? g_h[j] : 0.0f);
    const float dc = dh * o * (1.0f - tc * tc) + dc_next[j] + (g_c ? g_c[j] : 0.0f);
    d4[j] = dc * g * i * (1.0f - i);
    d4[h + j] = dc * c_prev[j] * f * (1.0f - f);
    d4[2 * h + j] = dc * i * (1.0f - g * g);
    d4[3 * h + j] = dh * tc * o * (1.0f - o);
    dc_next[j] = dc * f;
  }
}

}  // namespace deca::model::cpu
