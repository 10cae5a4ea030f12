/* common/f16.h — IEEE binary16 and bfloat16 conversions on the CPU (exact, round-to-nearest-even). */
#ifndef VKMM_COMMON_F16_H
#define VKMM_COMMON_F16_H

#include <stdint.h>

float vkmm_f16_to_f32(uint16_t h);
uint16_t vkmm_f32_to_f16(float f);
float vkmm_bf16_to_f32(uint16_t h);
uint16_t vkmm_f32_to_bf16(float f);

#endif
