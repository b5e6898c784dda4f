// Peak int8 multiply-accumulate loops of this machine, per ISA: long runs of
// independent dot-product instructions with nothing else in the loop. Each
// returns the MACs it did (the caller times it).
#pragma once

#include <cstddef>
#include <cstdint>

namespace heed::bench {

uint64_t peak_vpdpbusd_zmm(size_t iters);   // AVX-512 VNNI: 64 MACs per instruction
uint64_t peak_vpmaddubsw_ymm(size_t iters);  // AVX2: vpmaddubsw + vpmaddwd + vpaddd per 32 MACs
uint64_t peak_vfmadd_zmm(size_t iters);      // AVX-512 float FMA: 16 MACs per instruction
uint64_t peak_vfmadd_ymm(size_t iters);      // AVX2 float FMA: 8 MACs per instruction

}  // namespace heed::bench
