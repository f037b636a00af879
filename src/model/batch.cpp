#include "deca/core/error.h"
#include "deca/model/model.h"

namespace deca::model {

Batch make_batch(const EncodedSplit& data, const std::vector<uint32_t>& rows, const Vocabulary& vocab,
                 const torch::Device& device, bool with_answers) {
  if (rows.empty()) throw Error("make_batch: empty batch");
  const int64_t b = static_cast<int64_t>(rows.size());
  // Contexts and questions are framed as decaNLP frames them, <init> ... <eos>,
  // so that the pointer can copy the end of the sequence as well as its words.
  // Unframed (models of the first tokenizer scheme), an empty field still gets
  // one token (<eos>) so that every sequence has a length.
  const int64_t frame = vocab.frame_inputs ? 2 : 0;
  int64_t m = std::max<int64_t>(frame, 1), n = m, t = 1;
  for (uint32_t r : rows) {
    m = std::max<int64_t>(m, data.context_len(r) + frame);
    n = std::max<int64_t>(n, data.question_len(r) + frame);
    t = std::max<int64_t>(t, data.answer_len(r) + 1);
  }
  auto i64 = torch::TensorOptions().dtype(torch::kInt64);
  auto context = torch::full({b, m}, vocab.pad, i64), question = torch::full({b, n}, vocab.pad, i64);
  auto clen = torch::empty({b}, i64), qlen = torch::empty({b}, i64);
  auto fill = [&](auto row, const int32_t* p, int64_t len) -> int64_t {
    if (!vocab.frame_inputs) {
      for (int64_t k = 0; k < len; ++k) row[k] = p[k];
      if (len == 0) row[0] = vocab.eos;
      return std::max<int64_t>(len, 1);
    }
    row[0] = vocab.bos;
    for (int64_t k = 0; k < len; ++k) row[k + 1] = p[k];
    row[len + 1] = vocab.eos;
    return len + 2;
  };
  // To a GPU from pinned memory, without waiting for the copy (the trainer
  // prepares the next batch on another thread while the GPU computes).
  auto to_device = [&](const torch::Tensor& t) {
    return device.is_cuda() ? t.pin_memory().to(device, /*non_blocking=*/true) : t.to(device);
  };
  auto c = context.accessor<int64_t, 2>(), q = question.accessor<int64_t, 2>();
  auto cl = clen.accessor<int64_t, 1>(), ql = qlen.accessor<int64_t, 1>();
  Batch batch;
  for (int64_t i = 0; i < b; ++i) {
    const uint32_t r = rows[static_cast<size_t>(i)];
    cl[i] = fill(c[i], data.context(r), data.context_len(r));
    ql[i] = fill(q[i], data.question(r), data.question_len(r));
    batch.input_tokens += cl[i] + ql[i];
  }
  batch.context = to_device(context);
  batch.question = to_device(question);
  batch.context_lengths = clen;
  batch.question_lengths = qlen;
  if (with_answers) {
    auto in = torch::full({b, t}, vocab.pad, i64), out = torch::full({b, t}, vocab.pad, i64);
    auto ia = in.accessor<int64_t, 2>(), oa = out.accessor<int64_t, 2>();
    std::vector<int64_t> positions;
    for (int64_t i = 0; i < b; ++i) {
      const uint32_t r = rows[static_cast<size_t>(i)];
      const int32_t* ap = data.answer(r);
      const int64_t la = data.answer_len(r);
      ia[i][0] = vocab.bos;
      for (int64_t k = 0; k < la; ++k) {
        ia[i][k + 1] = ap[k];
        oa[i][k] = ap[k];
      }
      oa[i][la] = vocab.eos;
      for (int64_t k = 0; k <= la; ++k) positions.push_back(i * t + k);
      batch.target_tokens += la + 1;
      batch.input_tokens += la + 1;
    }
    batch.answer_in = to_device(in);
    batch.answer_out = to_device(out);
    batch.target_positions = to_device(torch::tensor(positions, i64));
  }
  return batch;
}

int64_t parameter_count(const torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters())
    if (p.requires_grad()) n += p.numel();
  return n;
}

}  // namespace deca::model
