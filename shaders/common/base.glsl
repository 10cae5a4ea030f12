// shaders/common/base.glsl — what every vkmm compute shader shares: version, storage extensions, workgroup size.
// Workgroup size is specialization constant 0 (x); families add their own constants from id 1 on.
#extension GL_EXT_shader_16bit_storage : require
#extension GL_EXT_shader_8bit_storage : require
#extension GL_EXT_shader_explicit_arithmetic_types_int8 : require
#extension GL_EXT_shader_explicit_arithmetic_types_int16 : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : enable

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

// Grid-stride loops keep the dispatch within maxComputeWorkGroupCount for any element count.
#define GRID_STRIDE (gl_NumWorkGroups.x * gl_WorkGroupSize.x)
