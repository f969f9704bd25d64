//! `minqing-field`: the field client's command line. Not built yet: it arrives with check-ins.

fn main() {
    eprintln!("minqing-field: the field client is not built yet; it arrives with check-in sync.");
    std::process::exit(2);
}
