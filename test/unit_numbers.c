/* unit_numbers.c: JSON numbers convert to exactly the double strtod gives, on three million
 * random decimals of 1 to 19 digits with and without exponents (the fast paths), and on
 * values at the edges of the fast paths. */
#include "../mcp.c"
#include "t.h"
static uint64_t rng = 88172645463325252ull;
static uint64_t xr(void){ rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }
int main(void){
  char buf[64]; long bad=0, n=0;
  for (long i=0;i<3000000;i++){
    int digits = 1 + xr()%19; char *p=buf; if (xr()&1) *p++='-';
    uint64_t v = xr(); char ds[32]; int k=0; for(int j=0;j<digits;j++){ ds[k++]='0'+ (v%10); v/=10; } ds[k]=0; if (ds[0]=='0') ds[0]='1';
    int dot = xr()% (digits+1); int e = (int)(xr()%40) - 20;
    for (int j=0;j<digits;j++){ if (j==dot && j>0) *p++='.'; *p++=ds[j]; }
    if (xr()%3==0) p+=sprintf(p,"e%d",e);
    *p=0;
    mcp_json_err er; mcp_json_doc *d = mcp_json_parse(buf, strlen(buf), 0, &er);
    if (!d) { T_OK(buf, 0); continue; }
    double a = mcp_json_root(d)->u.d, b = strtod(buf, NULL); n++;
    if (memcmp(&a,&b,8)) { if (bad<10) printf("# mismatch %s %.17g %.17g\n", buf, a, b); bad++; }
    mcp_json_free(d);
  }
  T_EQ_INT("3,000,000 random decimals convert exactly as strtod does", bad, 0);
  static const char *const edge[] = {"9007199254740992", "9007199254740993", "18446744073709551615",
      "1e22", "1e23", "1.7976931348623157e308", "2.2250738585072014e-308", "4.9e-324", "0.1", "-0.0",
      "123456789012345678.5e-3", "9999999999999999999e27", "1e-27", "0.30000000000000004",
      "8.589973e9", "1448997445238699", "2.4e-21", "89255.0e-22", "5e-324", "1e400"};
  for (size_t i = 0; i < sizeof edge / sizeof *edge; i++) {
    mcp_json_err er; mcp_json_doc *d = mcp_json_parse(edge[i], strlen(edge[i]), 0, &er);
    double a = d ? mcp_json_root(d)->u.d : -1, b = strtod(edge[i], NULL);
    char name[96]; snprintf(name, sizeof name, "%s converts as strtod does", edge[i]);
    T_OK(name, d && !memcmp(&a, &b, 8));
    mcp_json_free(d);
  }
  (void)n;
  return t_done();
}
