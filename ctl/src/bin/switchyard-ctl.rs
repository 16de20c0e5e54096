//! Standalone `switchyard-ctl`, the same as `switchyard ctl`.

fn main() {
    let code = switchyard_ctl::main(std::env::args().skip(1).collect());
    std::process::exit(code);
}
