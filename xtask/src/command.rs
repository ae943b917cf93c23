//! Running cargo and rustup, with the workspace root as working directory.

use std::path::PathBuf;
use std::process::Command;

/// The workspace root (the xtask crate's parent folder).
pub(crate) fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .expect("xtask lives one folder below the workspace root")
        .to_path_buf()
}

/// The stable cargo that runs this xtask, or `cargo` from `PATH`.
pub(crate) fn cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(root());
    command
}

/// `cargo` of the given toolchain, through `rustup run`. The stable cargo's variables
/// are removed so that tools such as cargo-miri do not call back into it.
pub(crate) fn toolchain_cargo(toolchain: &str) -> Command {
    let mut command = Command::new("rustup");
    command
        .args(["run", toolchain, "cargo"])
        .current_dir(root())
        .env_remove("CARGO")
        .env_remove("RUSTC")
        .env_remove("RUSTDOC")
        .env_remove("RUSTUP_TOOLCHAIN");
    command
}

/// Runs `command`, echoing it; an error names the command and its status.
pub(crate) fn exec(command: &mut Command) -> Result<(), String> {
    println!("    $ {}", describe(command));
    let status = command
        .status()
        .map_err(|error| format!("could not start `{}`: {error}", describe(command)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", describe(command)))
    }
}

/// Runs `command` and returns its standard output.
pub(crate) fn output(command: &mut Command) -> Result<String, String> {
    let output = command
        .output()
        .map_err(|error| format!("could not start `{}`: {error}", describe(command)))?;
    if !output.status.success() {
        return Err(format!(
            "`{}` failed ({}): {}",
            describe(command),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn describe(command: &Command) -> String {
    let mut text = String::new();
    for (key, value) in command.get_envs() {
        if let Some(value) = value {
            text.push_str(&format!("{}={:?} ", key.to_string_lossy(), value));
        }
    }
    text.push_str(&command.get_program().to_string_lossy());
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// What `cargo metadata` says of the workspace: each member's name and folder (in the
/// workspace's order), and the target directory.
pub(crate) struct Workspace {
    pub(crate) packages: Vec<(String, PathBuf)>,
    pub(crate) target_directory: PathBuf,
}

/// Reads the workspace's members and target directory from `cargo metadata`.
pub(crate) fn workspace() -> Result<Workspace, String> {
    let metadata = output(cargo().args(["metadata", "--no-deps", "--format-version", "1"]))?;
    let metadata: serde_json::Value = serde_json::from_str(&metadata)
        .map_err(|error| format!("reading cargo metadata: {error}"))?;
    let target_directory = metadata["target_directory"]
        .as_str()
        .ok_or("cargo metadata has no target directory")?
        .into();
    let packages = metadata["packages"]
        .as_array()
        .ok_or("cargo metadata has no package list")?
        .iter()
        .map(|package| {
            let name = package["name"].as_str();
            let folder = package["manifest_path"]
                .as_str()
                .and_then(|manifest| std::path::Path::new(manifest).parent());
            match (name, folder) {
                (Some(name), Some(folder)) => Ok((name.to_owned(), folder.to_path_buf())),
                _ => Err(format!(
                    "cargo metadata: a package without name or manifest: {package}"
                )),
            }
        })
        .collect::<Result<_, _>>()?;
    Ok(Workspace {
        packages,
        target_directory,
    })
}

/// Runs the release build of the experiment `benches/benches/{name}.rs` (a bench target
/// without criterion's harness) with `args`; fails when it does.
pub(crate) fn run_experiment(
    name: &str,
    args: impl IntoIterator<Item = String>,
) -> Result<(), String> {
    let mut command = cargo();
    command.args([
        "bench",
        "--locked",
        "-p",
        "ada-benches",
        "--bench",
        name,
        "--",
    ]);
    command.args(args);
    exec(&mut command)
}
