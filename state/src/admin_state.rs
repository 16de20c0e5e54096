//! Administrative state bits, numbered as HAProxy's `srv_admin_state`
//! (the value `show servers state` prints).

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AdminState(pub u8);

impl AdminState {
    /// Forced maintenance (CLI `state maint`, `disable server`).
    pub const FMAINT: u8 = 0x01;
    /// Inherited maintenance (tracked server).
    pub const IMAINT: u8 = 0x02;
    /// `disabled` in the config: a marker only (the server starts with
    /// FMAINT too, and `set server ... state ready` clears that, as in
    /// HAProxy), so it is not part of `MAINT_MASK`.
    pub const CMAINT: u8 = 0x04;
    /// Forced drain (CLI `state drain`).
    pub const FDRAIN: u8 = 0x08;
    /// Inherited drain.
    pub const IDRAIN: u8 = 0x10;
    /// Maintenance because DNS gave no address yet.
    pub const RMAINT: u8 = 0x20;
    /// fqdn set via CLI.
    pub const HMAINT: u8 = 0x40;

    pub const MAINT_MASK: u8 = Self::FMAINT | Self::IMAINT | Self::RMAINT | Self::HMAINT;
    pub const DRAIN_MASK: u8 = Self::FDRAIN | Self::IDRAIN;

    pub fn is_maint(self) -> bool {
        self.0 & Self::MAINT_MASK != 0
    }
    pub fn is_drain(self) -> bool {
        self.0 & Self::DRAIN_MASK != 0
    }
    pub fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }
    pub fn set(&mut self, bit: u8) {
        self.0 |= bit;
    }
    pub fn clear(&mut self, bit: u8) {
        self.0 &= !bit;
    }
}
