//! How many adapter instances the engine's pool holds, and what each slot costs.
//!
//! Wasmtime's pooling allocator reserves, when the engine is built, a slot for every
//! instance that may be alive at once: per instance one linear-memory slot (the memory
//! reservation plus a guard region, mapped `PROT_NONE` with `MAP_NORESERVE`) and
//! [`TABLES_PER_INSTANCE`] table slots (`MAP_NORESERVE`, committed only when touched). A slot
//! nobody uses costs address space and a few bytes of bookkeeping, no memory; a live
//! instance costs the pages it touches plus a few memory mappings. So what bounds the pool
//! on a 64-bit machine is not memory but
//!
//! - the process's address space: with the 4 GiB memory reservation (which lets compiled
//!   code skip bounds checks on 32-bit memories) a slot is ~4 GiB, so x86-64's 128 TiB user
//!   space holds ~32,000 of them; and
//! - the kernel's limit on memory mappings per process (`vm.max_map_count`, 65,530 by
//!   default): a live instance splits its slots into [`MAPPINGS_PER_INSTANCE`] mappings.
//!
//! The default pool ([`Machine::default_instances`]) takes a quarter of the first and half
//! of the second, which leaves room for everything else the process maps (and for a second
//! runtime, as tests and tools create). Where a quarter of the address space holds fewer than
//! [`DENSE_ENOUGH`] 4 GiB slots (39-bit address spaces, some ARM kernels) slots shrink to the
//! memory limit plus the guard, and compiled code checks bounds instead
//! ([`Machine::memory_reservation`]).
//!
//! This module only computes; `engine` builds the pool.

use std::sync::OnceLock;

/// The linear-memory reservation per slot where address space allows: 4 GiB, so 32-bit
/// memories need no bounds checks (wasmtime's own default on 64-bit hosts).
pub const MEMORY_RESERVATION: u64 = 4 << 30;
/// The guard region after each memory (wasmtime's default on 64-bit hosts).
pub const MEMORY_GUARD: u64 = 32 << 20;
/// Elements per table slot (wasmtime's default).
pub const TABLE_ELEMENTS: usize = 20_000;
/// Table slots reserved per instance: a Rust component holds its own module's table plus
/// the shim modules' tables.
pub const TABLES_PER_INSTANCE: u32 = 4;
/// Core instances reserved per instance: a Rust component's module plus small shim modules.
pub const CORE_INSTANCES_PER_INSTANCE: u32 = 4;
/// Bytes of one table element in the pool's reservation.
const TABLE_ELEMENT_BYTES: u64 = 8;
/// Memory mappings one live instance adds to the process (its memory slot split into the
/// copy-on-write image, the writable rest and the inaccessible rest; its table slots).
/// `benches/scale.rs` counts 4.1 per running server, which includes the server's other
/// mappings; the default leaves half of the kernel's limit for those.
pub const MAPPINGS_PER_INSTANCE: u64 = 4;
/// Fewest 4 GiB slots worth keeping bounds checks off for; below that slots shrink.
pub const DENSE_ENOUGH: u64 = 2048;
/// Fewest instances a default pool holds, whatever the machine says.
const MIN_DEFAULT: u64 = 64;

/// What the machine allows one process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Machine {
    /// Bytes of user address space.
    pub address_space: u64,
    /// Most memory mappings the kernel lets one process have.
    pub max_map_count: u64,
}

impl Machine {
    /// This machine, read once: the address space from where the kernel put the main
    /// thread's stack (at the top of user space, rounded up to a power of two; 2⁴⁷ when it
    /// cannot be read) and `vm.max_map_count` (65,530 when it cannot be read).
    pub fn this() -> Machine {
        static MACHINE: OnceLock<Machine> = OnceLock::new();
        *MACHINE.get_or_init(|| Machine {
            address_space: std::fs::read_to_string("/proc/self/maps")
                .ok()
                .and_then(|maps| stack_top(&maps))
                .map_or(1 << 47, u64::next_power_of_two),
            max_map_count: std::fs::read_to_string("/proc/sys/vm/max_map_count")
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(65_530),
        })
    }

    /// The address space the pool may take: a quarter of the process's.
    fn address_budget(&self) -> u64 {
        self.address_space / 4
    }

    /// The linear-memory reservation per slot for a pool of `instances` with memories of at
    /// most `memory_limit` bytes: 4 GiB (no bounds checks) when that many such slots fit
    /// the budget, else just the limit (bounds-checked).
    pub fn memory_reservation(&self, instances: u32, memory_limit: usize) -> u64 {
        let dense = slot_bytes(MEMORY_RESERVATION, memory_limit);
        if u64::from(instances).saturating_mul(dense) <= self.address_budget() {
            MEMORY_RESERVATION.max(wasm_pages(memory_limit))
        } else {
            wasm_pages(memory_limit)
        }
    }

    /// How many instances the pool holds when the configuration does not say: as many as a
    /// quarter of the address space and half of the mapping limit allow (at least 64).
    pub fn default_instances(&self, memory_limit: usize) -> u32 {
        let dense = self.address_budget() / slot_bytes(MEMORY_RESERVATION, memory_limit);
        let by_address = if dense >= DENSE_ENOUGH {
            dense
        } else {
            self.address_budget() / slot_bytes(wasm_pages(memory_limit), memory_limit)
        };
        let by_mappings = self.max_map_count / 2 / MAPPINGS_PER_INSTANCE;
        let n = by_address.min(by_mappings).max(MIN_DEFAULT);
        u32::try_from(n).unwrap_or(u32::MAX)
    }
}

/// The address space one instance's slots take with `reservation`-byte memory slots.
pub fn slot_bytes(reservation: u64, memory_limit: usize) -> u64 {
    let memory = reservation.max(wasm_pages(memory_limit)) + MEMORY_GUARD;
    let tables = u64::from(TABLES_PER_INSTANCE) * TABLE_ELEMENTS as u64 * TABLE_ELEMENT_BYTES;
    memory + tables
}

/// `bytes` rounded up to whole 64 KiB WebAssembly pages.
fn wasm_pages(bytes: usize) -> u64 {
    (bytes as u64).div_ceil(64 << 10).max(1) * (64 << 10)
}

/// The end of the `[stack]` mapping in `/proc/self/maps` text.
fn stack_top(maps: &str) -> Option<u64> {
    let line = maps.lines().find(|l| l.ends_with("[stack]"))?;
    let range = line.split_whitespace().next()?;
    let (_, end) = range.split_once('-')?;
    u64::from_str_radix(end, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const X86_64: Machine = Machine {
        address_space: 1 << 47,
        max_map_count: 65_530,
    };

    #[test]
    fn the_default_pool_on_x86_64_holds_thousands_of_4_gib_slots() {
        let n = X86_64.default_instances(64 << 20);
        // A quarter of 128 TiB in (4 GiB + guard + tables) slots: 8,127; the mappings allow
        // 8,191.
        assert_eq!(n, 8_127);
        assert_eq!(X86_64.memory_reservation(n, 64 << 20), MEMORY_RESERVATION);
        assert!(u64::from(n) * slot_bytes(MEMORY_RESERVATION, 64 << 20) <= (1 << 47) / 4);
    }

    #[test]
    fn a_lower_mapping_limit_lowers_the_default() {
        let machine = Machine {
            max_map_count: 8_000,
            ..X86_64
        };
        assert_eq!(machine.default_instances(64 << 20), 1_000);
    }

    #[test]
    fn a_small_address_space_shrinks_slots_instead_of_the_pool() {
        // 39-bit user space (512 GiB): a quarter holds 31 slots of 4 GiB, but 1,356 of
        // 64 MiB + guard.
        let machine = Machine {
            address_space: 1 << 39,
            max_map_count: 65_530,
        };
        let n = machine.default_instances(64 << 20);
        assert!(n > 1_000, "{n}");
        assert_eq!(machine.memory_reservation(n, 64 << 20), 64 << 20);
    }

    #[test]
    fn a_configured_pool_too_large_for_4_gib_slots_gets_small_ones() {
        assert_eq!(
            X86_64.memory_reservation(20_000, 64 << 20),
            64 << 20,
            "20,000 × 4 GiB is more than a quarter of 128 TiB"
        );
        assert_eq!(X86_64.memory_reservation(4, 64 << 20), MEMORY_RESERVATION);
    }

    #[test]
    fn the_stack_line_gives_the_top_of_user_space() {
        let maps = "55d0c0a00000-55d0c0a21000 r--p 00000000 08:01 1 /bin/x\n\
                    7ffd1c5e4000-7ffd1c605000 rw-p 00000000 00:00 0                          [stack]\n\
                    ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]\n";
        let top = stack_top(maps).expect("stack");
        assert_eq!(top.next_power_of_two(), 1 << 47);
        assert_eq!(stack_top("no stack here"), None);
    }

    #[test]
    fn this_machine_gets_a_usable_default() {
        let n = Machine::this().default_instances(64 << 20);
        assert!(n >= 64, "{n}");
    }
}
