#include "internal.h"

#include <stdio.h>

const char *fs_status_name(fs_status status)
{
    switch (status) {
#define FS_STATUS_NAME_(name, value, message) \
    case FS_##name:                           \
        return "FS_" #name;
        FS_STATUS_LIST(FS_STATUS_NAME_)
#undef FS_STATUS_NAME_
    default:
        return "FS_ERR_UNKNOWN";
    }
}

const char *fs_status_message(fs_status status)
{
    switch (status) {
#define FS_STATUS_MESSAGE_(name, value, message) \
    case FS_##name:                              \
        return message;
        FS_STATUS_LIST(FS_STATUS_MESSAGE_)
#undef FS_STATUS_MESSAGE_
    default:
        return "unknown status code";
    }
}

#define FS_STR_(x) #x
#define FS_STR(x) FS_STR_(x)

int fs_version(void)
{
    return FS_VERSION;
}

const char *fs_version_string(void)
{
    return FS_STR(FS_VERSION_MAJOR) "." FS_STR(FS_VERSION_MINOR) "." FS_STR(FS_VERSION_PATCH);
}
