/*
 * config.c: a NIC's address and gateway, from the boot info (nabla-run
 * --net-ipv4, --net-gw) or the guest command line (--ipv4=, --gw=; these
 * win for their NIC), and bringing the NICs up with them. The one place of
 * the library OS that parses them; see guests/NET.md for the rules.
 */
#include "net_internal.h"

#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "netif/ethernet.h"

struct nl_config {
    char     nic[NABLA_DEVICE_NAME_MAX];   /* "" = the default NIC */
    uint32_t addr;
    uint8_t  prefix;
    uint8_t  is_gw;
};

static struct nl_config configs[2 * NABLA_MAX_DEVICES];
static int config_count;

struct nl_nic nl_nics[NABLA_MAX_DEVICES];
int nl_nic_count;

int nabla_net_parse_ipv4(const char *text, uint32_t *ip)
{
    uint32_t value = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (*text != '.')
                return -1;
            text++;
        }
        if (*text < '0' || *text > '9')
            return -1;
        uint32_t octet = 0;
        int digits = 0;
        while (*text >= '0' && *text <= '9') {
            octet = octet * 10 + (uint32_t)(*text - '0');
            text++;
            if (++digits > 3 || octet > 255)
                return -1;
        }
        value = value << 8 | octet;
    }
    if (*text != '\0')
        return -1;
    *ip = value;
    return 0;
}

static char *format_ipv4(uint32_t ip, char *buf)
{
    snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
    return buf;
}

static uint32_t prefix_mask(unsigned prefix)
{
    return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

/* Splits "NAME:REST" from REST; with no colon, *name is "". Returns REST,
 * or NULL if the name is empty or too long. */
static const char *split_name(const char *value, char *name)
{
    name[0] = '\0';
    const char *colon = strchr(value, ':');
    if (colon == NULL)
        return value;
    size_t n = (size_t)(colon - value);
    if (n == 0 || n >= NABLA_DEVICE_NAME_MAX)
        return NULL;
    memcpy(name, value, n);
    name[n] = '\0';
    return colon + 1;
}

int nabla_net_arg(const char *arg)
{
    int is_gw;
    const char *value;
    if (strncmp(arg, "--ipv4=", 7) == 0) {
        is_gw = 0;
        value = arg + 7;
    } else if (strncmp(arg, "--gw=", 5) == 0) {
        is_gw = 1;
        value = arg + 5;
    } else {
        return 0;
    }
    if (config_count >= (int)(sizeof configs / sizeof configs[0])) {
        printf("net: too many --ipv4/--gw arguments\n");
        return -1;
    }
    struct nl_config *c = &configs[config_count];
    memset(c, 0, sizeof *c);
    const char *rest = split_name(value, c->nic);
    if (rest == NULL) {
        printf("net: bad NIC name in '%s': 1 to %u characters before ':'\n", arg, NABLA_DEVICE_NAME_MAX - 1);
        return -1;
    }
    char addr[16];
    const char *slash = strchr(rest, '/');
    size_t alen = slash ? (size_t)(slash - rest) : strlen(rest);
    if (alen >= sizeof addr)
        goto bad;
    memcpy(addr, rest, alen);
    addr[alen] = '\0';
    if (nabla_net_parse_ipv4(addr, &c->addr) != 0)
        goto bad;
    uint8_t top = (uint8_t)(c->addr >> 24);
    if (top == 0 || top == 127 || top >= 224) {
        printf("net: '%s': %s is not a unicast host address\n", arg, addr);
        return -1;
    }
    if (is_gw) {
        if (slash != NULL)
            goto bad;
        c->is_gw = 1;
    } else {
        uint64_t prefix;
        if (slash == NULL || nabla_parse_u64(slash + 1, &prefix) != 0 || prefix < 1 || prefix > 32)
            goto bad;
        c->prefix = (uint8_t)prefix;
        uint32_t mask = prefix_mask(c->prefix);
        if (c->prefix <= 30 && ((c->addr & ~mask) == 0 || (c->addr & ~mask) == ~mask)) {
            printf("net: '%s': %s is the network or broadcast address of /%u\n", arg, addr, c->prefix);
            return -1;
        }
    }
    config_count++;
    return 1;
bad:
    if (is_gw)
        printf("net: bad argument '%s': expected --gw=ADDR or --gw=NAME:ADDR\n", arg);
    else
        printf("net: bad argument '%s': expected --ipv4=ADDR/PREFIX or --ipv4=NAME:ADDR/PREFIX (PREFIX 1-32)\n", arg);
    return -1;
}

struct nl_nic *nl_nic_for_handle(int h)
{
    for (int i = 0; i < nl_nic_count; i++)
        if (nl_nics[i].handle == h)
            return &nl_nics[i];
    const struct nabla_device *d = nabla_device(h);
    if (d == NULL || d->kind != NABLA_DEVICE_NET || nl_nic_count >= (int)NABLA_MAX_DEVICES)
        return NULL;
    struct nl_nic *nic = &nl_nics[nl_nic_count++];
    memset(nic, 0, sizeof *nic);
    nic->handle = h;
    memcpy(nic->name, d->name, NABLA_DEVICE_NAME_MAX);
    nic->name[NABLA_DEVICE_NAME_MAX - 1] = '\0';
    return nic;
}

/* The handle of the default NIC: the one named "net", else the first. */
static int default_handle(void)
{
    int h = nabla_device_find("net", NABLA_DEVICE_NET);
    if (h >= 0)
        return h;
    const struct nabla_boot_info *info = nabla_boot_info();
    for (uint32_t i = 0; i < info->device_count && i < NABLA_MAX_DEVICES; i++)
        if (info->devices[i].kind == NABLA_DEVICE_NET)
            return (int)i;
    return -1;
}

static int on_link(const struct nl_nic *nic, uint32_t ip)
{
    uint32_t mask = prefix_mask(nic->prefix);
    return (ip & mask) == (nic->addr & mask);
}

/* Gives one --ipv4 or --gw argument its NIC. 0 or -1 (with a message). */
static int apply(const struct nl_config *c)
{
    char ip[16];
    format_ipv4(c->addr, ip);
    int h = -1;
    if (c->nic[0] != '\0') {
        h = nabla_device_find(c->nic, NABLA_DEVICE_NET);
        if (h < 0) {
            printf("net: no NIC named '%s' (attach one with nabla-run --net %s=TAP)\n", c->nic, c->nic);
            return -1;
        }
    } else if (!c->is_gw) {
        h = default_handle();
        if (h < 0) {
            printf("net: --ipv4=%s/%u but no NIC is attached (nabla-run --net TAP)\n", ip, c->prefix);
            return -1;
        }
    } else {
        for (int j = 0; j < nl_nic_count && h < 0; j++)
            if (nl_nics[j].configured && on_link(&nl_nics[j], c->addr))
                h = nl_nics[j].handle;
        if (h < 0) {
            printf("net: gateway %s is in no configured subnet (use --gw=NAME:ADDR)\n", ip);
            return -1;
        }
    }
    struct nl_nic *nic = nl_nic_for_handle(h);
    if (nic == NULL) {
        printf("net: device %d is not a NIC\n", h);
        return -1;
    }
    if (c->is_gw) {
        if (!nic->configured) {
            printf("net: gateway %s for NIC '%s', which has no --ipv4 address\n", ip, nic->name);
            return -1;
        }
        if (nic->gw != 0) {
            printf("net: NIC '%s' has two gateways\n", nic->name);
            return -1;
        }
        if (c->addr == nic->addr) {
            printf("net: gateway %s is the NIC's own address\n", ip);
            return -1;
        }
        nic->gw = c->addr;
    } else {
        if (nic->configured) {
            printf("net: NIC '%s' has two --ipv4 addresses\n", nic->name);
            return -1;
        }
        nic->configured = 1;
        nic->addr = c->addr;
        nic->prefix = c->prefix;
    }
    return 0;
}

static uint32_t boot_ipv4(const uint8_t b[4])
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* The boot info's addresses (pass 0) or gateways (pass 1), for each NIC
 * the command line left without one. A NIC that got its address from the
 * command line takes nothing from the boot info. */
static void apply_boot_info(int pass)
{
    const struct nabla_boot_info *info = nabla_boot_info();
    if (!(info->flags & NABLA_BOOT_NET_CONFIG))
        return;
    for (uint32_t i = 0; i < info->device_count && i < NABLA_MAX_DEVICES; i++) {
        const struct nabla_net_config *c = &info->net_config[i];
        if (info->devices[i].kind != NABLA_DEVICE_NET || c->prefix == 0 || c->prefix > 32)
            continue;
        struct nl_nic *nic = nl_nic_for_handle((int)i);
        if (nic == NULL)
            continue;
        if (pass == 0 && !nic->configured) {
            nic->configured = 1;
            nic->from_boot_info = 1;
            nic->addr = boot_ipv4(c->ipv4);
            nic->prefix = c->prefix;
        } else if (pass == 1 && nic->from_boot_info && nic->gw == 0) {
            nic->gw = boot_ipv4(c->gateway);
        }
    }
}

int nabla_net_start(void)
{
    /* Addresses first, then gateways (which may need a subnet); the
     * command line's before the boot info's. */
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < config_count; i++)
            if (configs[i].is_gw == pass && apply(&configs[i]) != 0)
                return -1;
        apply_boot_info(pass);
    }
    /* NICs without an address get a netif too, so their frames are read
     * (and dropped by lwIP): left unread they would make every poll return. */
    const struct nabla_boot_info *info = nabla_boot_info();
    for (uint32_t i = 0; i < info->device_count && i < NABLA_MAX_DEVICES; i++)
        if (info->devices[i].kind == NABLA_DEVICE_NET)
            nl_nic_for_handle((int)i);
    int configured = 0;
    for (int i = 0; i < nl_nic_count; i++)
        configured += nl_nics[i].configured;
    if (configured == 0) {
        printf("net: no address: give nabla-run --net TAP --net-ipv4 ADDR/PREFIX (or the guest argument --ipv4=ADDR/PREFIX)\n");
        return -1;
    }

    lwip_init();
    struct netif *first_gw = NULL, *first_configured = NULL;
    for (int i = 0; i < nl_nic_count; i++) {
        struct nl_nic *nic = &nl_nics[i];
        ip4_addr_t addr, mask, gw;
        ip4_addr_set_u32(&addr, lwip_htonl(nic->addr));
        ip4_addr_set_u32(&mask, lwip_htonl(nic->configured ? prefix_mask(nic->prefix) : 0));
        ip4_addr_set_u32(&gw, lwip_htonl(nic->gw));
        if (netif_add(&nic->netif, &addr, &mask, &gw, nic, nl_netif_init, ethernet_input) == NULL) {
            printf("net: lwIP refused NIC '%s'\n", nic->name);
            return -1;
        }
        netif_set_up(&nic->netif);
        netif_set_link_up(&nic->netif);
        if (nic->gw != 0 && first_gw == NULL)
            first_gw = &nic->netif;
        if (!nic->configured)
            continue;
        if (first_configured == NULL)
            first_configured = &nic->netif;
        char ip[16], gws[16];
        const uint8_t *m = nic->netif.hwaddr;
        printf("net: %s handle %d mac %02x:%02x:%02x:%02x:%02x:%02x ipv4 %s/%u gw %s\n",
               nic->name, nic->handle, m[0], m[1], m[2], m[3], m[4], m[5],
               format_ipv4(nic->addr, ip), nic->prefix, nic->gw ? format_ipv4(nic->gw, gws) : "none");
    }
    /* lwIP routes to the subnet's netif, else to the default one. */
    netif_set_default(first_gw != NULL ? first_gw : first_configured);
    return 0;
}

int nabla_net_args(int *argc, char **argv)
{
    int kept = 1;
    for (int i = 1; i < *argc; i++) {
        int taken = nabla_net_arg(argv[i]);
        if (taken < 0)
            return -1;
        if (taken == 0)
            argv[kept++] = argv[i];
    }
    for (int i = kept; i < *argc; i++)
        argv[i] = NULL;
    *argc = kept;
    return 0;
}
