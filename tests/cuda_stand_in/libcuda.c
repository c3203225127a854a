/* A stand-in for the NVIDIA driver's libcuda.so.1, for tests on machines
 * without one (tests/test_gpu_stack.py builds it with cc).
 *
 * libmxnet.so (mxnet-cu112 1.9.1) binds these driver functions when it
 * is loaded, so an empty library is not enough.  Every call reports
 * CUDA_ERROR_NO_DEVICE, except what describes the driver and its GPUs:
 *   D2LREC_STAND_IN_CUDA  the CUDA version the driver supports, as
 *                         cuDriverGetVersion gives it (default 12040);
 *   D2LREC_STAND_IN_GPUS  the GPUs' compute capabilities, e.g. "9.0,8.6"
 *                         (default none: cuInit says there is no device).
 * No GPU code can run on it: mxnet-cu112 sees no GPU.
 */
#include <stdlib.h>
#include <string.h>

#define NO_DEVICE 100
#define INVALID_VALUE 1
#define ATTRIBUTE_MAJOR 75
#define ATTRIBUTE_MINOR 76

static int gpus(int caps[][2], int most)
{
    const char *text = getenv("D2LREC_STAND_IN_GPUS");
    int n = 0;
    while (text && *text && n < most) {
        caps[n][0] = (int)strtol(text, (char **)&text, 10);
        caps[n][1] = *text == '.' ? (int)strtol(text + 1, (char **)&text,
                                                10) : 0;
        n++;
        if (*text == ',')
            text++;
    }
    return n;
}

int cuInit(unsigned int flags)
{
    int caps[16][2];
    (void)flags;
    return gpus(caps, 16) ? 0 : NO_DEVICE;
}

int cuDriverGetVersion(int *version)
{
    const char *text = getenv("D2LREC_STAND_IN_CUDA");
    *version = text ? atoi(text) : 12040;
    return 0;
}

int cuDeviceGetCount(int *count)
{
    int caps[16][2];
    *count = gpus(caps, 16);
    return *count ? 0 : NO_DEVICE;
}

int cuDeviceGetAttribute(int *value, int attribute, int device)
{
    int caps[16][2];
    int n = gpus(caps, 16);
    if (device < 0 || device >= n)
        return INVALID_VALUE;
    if (attribute == ATTRIBUTE_MAJOR)
        *value = caps[device][0];
    else if (attribute == ATTRIBUTE_MINOR)
        *value = caps[device][1];
    else
        *value = 0;
    return 0;
}

/* The rest: there is no device to act on. */
#define NONE(name) int name(void) { return NO_DEVICE; }
NONE(cuDeviceGet)
NONE(cuDeviceGetName)
NONE(cuDeviceTotalMem_v2)
NONE(cuCtxGetCurrent)
NONE(cuCtxSetCurrent)
NONE(cuCtxGetDevice)
NONE(cuCtxPushCurrent_v2)
NONE(cuCtxPopCurrent_v2)
NONE(cuDevicePrimaryCtxRetain)
NONE(cuDevicePrimaryCtxRelease)
NONE(cuLaunchKernel)
NONE(cuModuleLoadData)
NONE(cuModuleLoadDataEx)
NONE(cuModuleGetFunction)
NONE(cuModuleUnload)
NONE(cuGetErrorName)
NONE(cuGetErrorString)
NONE(cuGetProcAddress)
NONE(cuGetExportTable)
NONE(cuGraphKernelNodeGetParams)
NONE(cuGraphNodeGetType)
