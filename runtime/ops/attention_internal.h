/* runtime/ops/attention_internal.h — what the attention op files share: the KV layout check and the binding
 * size limit they cut dispatches by. */
#ifndef VKMM_OPS_ATTENTION_INTERNAL_H
#define VKMM_OPS_ATTENTION_INTERNAL_H

#include "attention.h"

/* Fails (naming `what`) unless vkmm can store and read a cache of this layout. */
vkmm_status vkmm_attn_check_layout(const vkmm_kv_layout *kv, const char *what, vkmm_error *err);
/* The most bytes one binding may cover after its start is rounded down to the device's alignment. */
uint64_t vkmm_attn_bind_limit(const vkmm_ops *ops);

/* attention_mm.c: attention as two mat-muls (tuning attention.matmul_rows) where it applies */
bool vkmm_attn_mm_applies(const vkmm_ops *ops, const vkmm_attention_params *p);
uint64_t vkmm_attn_mm_scratch_bytes(const vkmm_attention_params *p);
vkmm_status vkmm_attn_mm(vkmm_ops *ops, vkmm_cmd *cmd, const vkmm_attention_params *p, const vkmm_attention_io *io,
                         vkmm_error *err);

#endif
