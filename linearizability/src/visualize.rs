//! placeholder
use crate::{LinearizationInfo, Model};
pub fn render_html<M: Model>(_model: &M, _info: &LinearizationInfo<M::Input, M::Output>) -> String {
    String::new()
}
pub fn write_html<M: Model>(
    model: &M,
    info: &LinearizationInfo<M::Input, M::Output>,
    path: impl AsRef<std::path::Path>,
) -> std::io::Result<()> {
    std::fs::write(path, render_html(model, info))
}
