// LABCOUNT_HOST_DEVICE marks the few plain functions that the GPU kernels call too (the calendar's day
// arithmetic): __host__ __device__ under nvcc, nothing for the host compilers.
#pragma once

#if defined(__CUDACC__)
#define LABCOUNT_HOST_DEVICE __host__ __device__
#else
#define LABCOUNT_HOST_DEVICE
#endif
