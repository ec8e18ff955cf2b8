#include "models/blocked_attention.h"

#include "core/error.h"
#include "models/onednn_matmul.h"

#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>

namespace gafx::models {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// One block's scores in fp32: (q_b · scale) kᵀ in the inputs' dtype, then widened; the block
// is of q already scaled. matmul_fp32 is at::matmul but for fp32 CPU tensors (oneDNN's kernels).
torch::Tensor scores(const torch::Tensor& qs_block, const torch::Tensor& k) {
    return matmul_fp32(qs_block, k.transpose(-2, -1)).to(at::kFloat);
}

struct BlockedAttention : torch::autograd::Function<BlockedAttention> {
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& q_in, const torch::Tensor& k_in,
                                 const torch::Tensor& v_in, double scale, int64_t block) {
        // A ViT block's q, k and v are strided views of one qkv product: each block's GEMMs
        // would copy them again. Scaling q once also saves a pass per block.
        const auto q = (q_in * scale).contiguous(), k = k_in.contiguous(), v = v_in.contiguous();
        const int64_t n = q.size(-2);
        auto out = at::empty_like(q, at::MemoryFormat::Contiguous);
        auto lse = at::empty(q.sizes().slice(0, q.dim() - 1).vec(), q.options().dtype(at::kFloat)).unsqueeze(-1);
        for (int64_t start = 0; start < n; start += block) {
            const int64_t len = std::min(block, n - start);
            const auto s = scores(q.narrow(-2, start, len), k);
            const auto l = at::logsumexp(s, -1, true);
            out.narrow(-2, start, len).copy_(matmul_fp32((s - l).exp_().to(v.scalar_type()), v));
            lse.narrow(-2, start, len).copy_(l);
        }
        ctx->save_for_backward({q, k, v, out, lse});
        ctx->saved_data["scale"] = scale;
        ctx->saved_data["block"] = block;
        return out;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const auto &q = saved[0], &k = saved[1], &v = saved[2], &out = saved[3], &lse = saved[4]; // q scaled
        const double scale = ctx->saved_data["scale"].toDouble();
        const int64_t block = ctx->saved_data["block"].toInt();
        const auto dout = grads[0].to(q.scalar_type()).contiguous();
        const int64_t n = q.size(-2);
        // Each query's Σ_j p_ij dp_ij, which is dout · out row by row.
        const auto delta = (dout.to(at::kFloat) * out.to(at::kFloat)).sum(-1, true);
        auto dq = at::empty_like(q, at::MemoryFormat::Contiguous);
        auto dk = at::zeros(k.sizes(), k.options().dtype(at::kFloat));
        auto dv = at::zeros(v.sizes(), v.options().dtype(at::kFloat));
        const auto dtype = q.scalar_type();
        for (int64_t start = 0; start < n; start += block) {
            const int64_t len = std::min(block, n - start);
            const auto qb = q.narrow(-2, start, len), dob = dout.narrow(-2, start, len);
            const auto p = (scores(qb, k) - lse.narrow(-2, start, len)).exp_();
            dv += matmul_fp32(p.to(dtype).transpose(-2, -1), dob);
            const auto dp = matmul_fp32(dob, v.transpose(-2, -1)).to(at::kFloat);
            const auto ds = (p * (dp - delta.narrow(-2, start, len))).to(dtype);
            dq.narrow(-2, start, len).copy_(matmul_fp32(ds, k) * scale);
            dk += matmul_fp32(ds.transpose(-2, -1), qb); // qb is q_b · scale
        }
        return {dq, dk.to(k.scalar_type()), dv.to(v.scalar_type()), torch::Tensor(), torch::Tensor()};
    }
};

} // namespace

torch::Tensor blocked_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, double scale,
                                int64_t block) {
    if (q.dim() < 2 || k.sizes() != q.sizes() || v.sizes() != q.sizes())
        throw Error({}, "blocked attention: q, k and v must share one shape [..., N, head_dim]");
    if (q.scalar_type() != k.scalar_type() || q.scalar_type() != v.scalar_type())
        throw Error({}, "blocked attention: q, k and v must share one dtype");
    if (block < 1) throw Error({}, "blocked attention: the block must hold at least one query");
    return BlockedAttention::apply(q, k, v, scale, block);
}

} // namespace gafx::models
