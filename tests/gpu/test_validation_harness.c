/* tests/gpu/test_validation_harness.c — proves that a validation message fails a test: a child process makes a
 * deliberate API misuse through the harness, and must exit non-zero with the message reported. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "child")) {
        vkmm_gpu *gpu = test_gpu_open(NULL);
        vkmm_gpu_provoke_validation_error(gpu);
        test_gpu_close(gpu);
        return test_finish("provoked child");
    }
#ifdef VKMM_TEST_NO_VALIDATION
    printf("validation disabled in this build (-Dvalidation=false): nothing to prove\n");
    return 77;
#endif
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' child 2>&1", argv[0]);
    FILE *p = popen(cmd, "r");
    if (!p) {
        perror("popen");
        return 1;
    }
    char out[65536];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    int status = pclose(p);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1, "child exit status %d (want 1)", status);
    CHECK(strstr(out, "validation error") != NULL, "child output does not report the validation error:\n%s", out);
    CHECK(strstr(out, "FAIL") != NULL, "child output does not say FAIL:\n%s", out);

    /* and a clean run passes */
    vkmm_gpu *gpu = test_gpu_open(NULL);
    test_gpu_close(gpu);
    return test_finish("validation harness");
}
