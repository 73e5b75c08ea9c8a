/* Throughput of VDPBF16PS register-blocked tiles in L1 (no packing, no C traffic), for choosing
   the microkernel shape: MR rows x NR columns, kp k-pairs per call. (A separate chain test measured
   VDPBF16PS zmm latency ~7 cycles, throughput one per cycle from 6-8 independent chains.) Build
   and run (from the package root): make bench-kernels && .build/bench/bf16_microkernel
   Measured on the Zen 4 host: every shape 6x32 ... 6x64 at 230-235 GFLOP/s (the bf16 peak). */
#include <immintrin.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
#define DEF(MR,NV) \
__attribute__((noinline)) void uk_##MR##_##NV(long kp,const uint32_t*a,const uint16_t*b,float*c,long ldc){ \
  __m512 acc[MR][NV]; \
  for(int r=0;r<MR;r++)for(int v=0;v<NV;v++)acc[r][v]=_mm512_setzero_ps(); \
  for(long p=0;p<kp;p++){ __m512bh bv[NV]; \
    for(int v=0;v<NV;v++) bv[v]=(__m512bh)_mm512_loadu_si512(b+(p*NV+v)*32); \
    for(int r=0;r<MR;r++){ __m512bh av=(__m512bh)_mm512_set1_epi32(a[p*MR+r]); \
      for(int v=0;v<NV;v++) acc[r][v]=_mm512_dpbf16_ps(acc[r][v],av,bv[v]);} } \
  for(int r=0;r<MR;r++)for(int v=0;v<NV;v++) _mm512_storeu_ps(c+r*ldc+v*16,_mm512_add_ps(_mm512_loadu_ps(c+r*ldc+v*16),acc[r][v])); }
DEF(6,2) DEF(8,2) DEF(10,2) DEF(12,2) DEF(14,2) DEF(4,3) DEF(6,3) DEF(8,3) DEF(4,4) DEF(6,4) DEF(5,4)
typedef void(*fn)(long,const uint32_t*,const uint16_t*,float*,long);
int main(){
  static uint32_t A[16*512] __attribute__((aligned(64))); static uint16_t B[64*2*512] __attribute__((aligned(64))); static float C[16*64];
  for(int i=0;i<16*512;i++)A[i]=0x3f803f80; for(int i=0;i<64*2*512;i++)B[i]=0x3f80;
  struct {fn f; int mr,nv;} ks[]={{uk_6_2,6,2},{uk_8_2,8,2},{uk_10_2,10,2},{uk_12_2,12,2},{uk_14_2,14,2},{uk_4_3,4,3},{uk_6_3,6,3},{uk_8_3,8,3},{uk_4_4,4,4},{uk_5_4,5,4},{uk_6_4,6,4}};
  long kps[]={64,128,256};
  for(int ki=0;ki<3;ki++) for(int i=0;i<11;i++){ long kp=kps[ki]; double best=1e9;
    for(int rep=0;rep<7;rep++){ long it=2000000/kp*50/(ks[i].mr*ks[i].nv); double t0=now(); for(long j=0;j<it;j++) ks[i].f(kp,A,B,C,64); double t=(now()-t0)/it; if(t<best)best=t;}
    double fl=2.0*ks[i].mr*ks[i].nv*16*kp*2; printf("kp=%ld MR=%d NR=%d: %.1f GFLOP/s\n",kp,ks[i].mr,ks[i].nv*16,fl/best*1e-9);}
}
