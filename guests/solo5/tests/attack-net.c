/* attack-net: the attack guest (attack.c) with a NIC, "service", in its
 * manifest instead of the disk, for the NIC's rules (Solo5Tests). */
#define ATTACK_NET
#include "attack.c"
