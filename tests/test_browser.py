"""The playground as a student uses it: in a real browser (``make
test-browser``, part of ``make test``).

JupyterLab starts on 127.0.0.1 with a token, on this environment's Python
and kernel, serving a copy of notebook 05.  Headless Chromium (Debian's
``chromium`` and ``chromium-driver``, driven by Selenium) opens it, in
JupyterLab and in Notebook 7 (the same server runs both), runs it from
the Run menu, types a small setting into the controls, presses Train,
and reads the test RMSE that the page shows.  The screenshots go
to the test run's artifacts: ``$D2LREC_ARTIFACTS``, by default
build/test-artifacts/ (for each of jupyterlab and notebook7:
NAME-playground.png, the widget after the run; NAME-page.png, the page
then; NAME-last.png, the page as the test ended; NAME-console.json, the
browser's console log).

It runs where ``D2LREC_BROWSER_TEST`` is set (``make test-browser`` sets
it), and then fails without chromium and chromedriver; elsewhere it is
skipped, so that the other environments' test runs leave it out.
"""
import json
import os
import pathlib
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).parents[1]
NOTEBOOK = ROOT / 'notebooks' / '05-autorec-playground.ipynb'
ARTIFACTS = pathlib.Path(os.environ.get('D2LREC_ARTIFACTS')
                         or ROOT / 'build' / 'test-artifacts')
#: How long a step may take before the test fails: a run of notebook 05
#: on a busy 2-core machine takes under a minute.
PATIENCE = int(os.environ.get('PATIENCE', 300))
#: The epochs of the setting typed into the controls.
EPOCHS = 30
pytestmark = pytest.mark.skipif(
    not os.environ.get('D2LREC_BROWSER_TEST'),
    reason='make test-browser runs it (D2LREC_BROWSER_TEST=1)')

webdriver = pytest.importorskip('selenium.webdriver')
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


#: JupyterLab's settings: it starts the notebook's kernel without asking
#: which, and shows no news and no update check.
SETTINGS = {
    'notebook-extension/tracker.jupyterlab-settings': {
        'autoStartDefaultKernel': True},
    'apputils-extension/notification.jupyterlab-settings': {
        'fetchNews': 'false', 'checkForUpdates': False}}


def jupyter_home(home):
    """Jupyter's directories under `home`, apart from the user's: the
    kernel named python3 is this Python (first on JUPYTER_PATH), and
    JupyterLab has `SETTINGS`."""
    kernel = home / 'data' / 'kernels' / 'python3'
    kernel.mkdir(parents=True)
    (kernel / 'kernel.json').write_text(json.dumps({
        'argv': [sys.executable, '-m', 'ipykernel_launcher', '-f',
                 '{connection_file}'],
        'display_name': 'Python 3', 'language': 'python'}))
    settings = home / 'settings' / '@jupyterlab'
    for plugin, values in SETTINGS.items():
        (settings / plugin).parent.mkdir(parents=True, exist_ok=True)
        (settings / plugin).write_text(json.dumps(values))
    return dict(os.environ, JUPYTER_PATH=str(home / 'data'),
                JUPYTER_CONFIG_DIR=str(home / 'config'),
                JUPYTER_RUNTIME_DIR=str(home / 'runtime'),
                JUPYTERLAB_SETTINGS_DIR=str(home / 'settings'),
                JUPYTERLAB_WORKSPACES_DIR=str(home / 'workspaces'))


#: The notebook's address in each user interface that the server runs.
PAGES = {'jupyterlab': '/lab/tree/', 'notebook7': '/notebooks/'}


@pytest.fixture(scope='module', params=PAGES)
def lab(request, tmp_path_factory, real_data):
    """JupyterLab serving a copy of notebook 05 (so that its autosave
    leaves the repository's alone); yields (the user interface, the
    notebook's URL in it)."""
    home = tmp_path_factory.mktemp('jupyter')
    served = home / 'notebooks'
    served.mkdir()
    shutil.copy(NOTEBOOK, served)
    port, token = free_port(), secrets.token_hex(16)
    log = (home / 'lab.log').open('w')
    server = subprocess.Popen(
        [sys.executable, '-m', 'jupyterlab', '--no-browser',
         '--ip=127.0.0.1', f'--port={port}', '--ServerApp.port_retries=0',
         f'--IdentityProvider.token={token}', f'--notebook-dir={served}',
         '--allow-root'], env=jupyter_home(home), stdout=log,
        stderr=subprocess.STDOUT)
    base = f'http://127.0.0.1:{port}'
    try:
        wait_for_server(f'{base}/api/status?token={token}', server)
        yield request.param, (f'{base}{PAGES[request.param]}'
                              f'{NOTEBOOK.name}?token={token}')
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()


def wait_for_server(url, server):
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        assert server.poll() is None, 'JupyterLab exited'
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f'JupyterLab did not answer in {PATIENCE} s')


@pytest.fixture(scope='module')
def browser():
    """Headless Chromium, the system's."""
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    chromium, driver = shutil.which('chromium'), shutil.which(
        'chromedriver')
    assert chromium and driver, ('the browser test needs Debian\'s '
                                 'chromium and chromium-driver: apt-get '
                                 'install chromium chromium-driver')
    options = Options()
    options.binary_location = chromium
    for argument in ('--headless=new', '--no-sandbox',
                     '--disable-dev-shm-usage', '--window-size=1280,1400'):
        options.add_argument(argument)
    options.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    browser = webdriver.Chrome(options=options, service=Service(driver))
    yield browser
    browser.quit()


def until(browser, condition, what):
    """`condition(browser)`'s first true value, waiting up to PATIENCE."""
    return WebDriverWait(browser, PATIENCE, poll_frequency=0.2).until(
        condition, f'waited {PATIENCE} s for {what}')


def run_all(browser):
    """Click Run All Cells in the Run menu, and see the kernel start on
    it.  Right after the page loads, the kernel can show idle before
    the notebook is connected to it, and a Run All then runs nothing
    (twice in nine runs of this test here, CI's run among them); as a
    person would, the test then clicks it again, once, after 30 s."""
    for attempt in range(2):
        until(browser, lambda b: b.find_element(
            By.XPATH, '//li[contains(@class, "lm-MenuBar-item")]'
                      '[normalize-space()="Run"]'), 'the Run menu').click()
        until(browser, lambda b: b.find_element(
            By.XPATH, '//li[contains(@class, "lm-Menu-item")]'
                      '[.//*[normalize-space()="Run All Cells"]]'),
              'Run All Cells').click()
        try:
            WebDriverWait(browser, 30, poll_frequency=0.1).until(
                lambda b: b.find_elements(
                    By.CSS_SELECTOR, '.jp-Notebook-ExecutionIndicator'
                                     '[data-status="busy"]'))
            return
        except TimeoutException:
            print(f'Run All Cells, click {attempt + 1}: the kernel did '
                  'not start running')
    raise AssertionError('Run All Cells did not run the notebook, twice')


def control(browser, label):
    """The input of the playground's control labelled `label`."""
    widget = browser.find_element(
        By.XPATH, f'//div[contains(@class, "widget-inline-hbox")]'
                  f'[./label[normalize-space()="{label}"]]')
    return widget.find_element(By.CSS_SELECTOR,
                               'input, .widget-readout')


def type_into(browser, element, text):
    """Replace what `element` holds by `text` and commit it (Enter)."""
    element.click()
    element.send_keys(Keys.CONTROL, 'a')
    element.send_keys(text, Keys.ENTER)


def status(browser):
    """The playground's status line."""
    return browser.find_element(By.CSS_SELECTOR, '.d2lrec-status').text


def runs_shown(browser):
    """The rows of the playground's table of runs."""
    return browser.find_elements(By.CSS_SELECTOR,
                                 '.d2lrec-runs table tbody tr')


@pytest.fixture
def page(lab, browser):
    """The browser on notebook 05, and the artifacts' name prefix.  The
    page as the test left it, passed or failed, is PREFIX-last.png, and
    the browser's console log PREFIX-console.json."""
    interface, url = lab
    browser.get(url)
    yield browser, interface
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / f'{interface}-last.png'))
    (ARTIFACTS / f'{interface}-console.json').write_text(
        json.dumps(browser.get_log('browser'), indent=1))


def test_train_a_small_setting_in_the_browser(page):
    browser, interface = page
    until(browser, lambda b: b.find_elements(  # as a person waits for
        By.CSS_SELECTOR, '.jp-Notebook-ExecutionIndicator'  # the kernel
                         '[data-status="idle"]'), 'the kernel to be idle')
    run_all(browser)
    # the notebook's own run, the chapter's setting, pressed from Python
    until(browser, lambda b: status(b).startswith('Run 1: test RMSE'),
          'the notebook to run and show its run')
    assert len(runs_shown(browser)) == 1

    epochs = control(browser, 'epochs')
    type_into(browser, epochs, '0')
    until(browser, lambda b: "Can't train" in status(b),
          'the explanation of 0 epochs')
    assert status(browser) == ("Can't train: num_epochs must be > 0, "
                               'got 0')
    # 30 epochs: about 2 s, so that the second press of a double click
    # reaches the kernel during the run
    type_into(browser, control(browser, 'hidden units'), '20')
    type_into(browser, control(browser, 'epochs'), str(EPOCHS))
    until(browser, lambda b: 'did not measure' in status(b),
          f'the setting of 20 units, {EPOCHS} epochs')

    train = browser.find_element(
        By.XPATH, '//button[normalize-space()="Train"]')
    ActionChains(browser).double_click(train).perform()  # 2 presses
    shown = until(browser, lambda b: re.match(
        r'Run 2: test RMSE (\d+\.\d+)', status(b)), 'the run to end')
    rmse = float(shown[1])
    rows = [row.text.split() for row in runs_shown(browser)]
    assert len(rows) == 2, rows  # the second press started no run
    assert rows[1][:7] == ['2', 'autorec', '20', 'sigmoid', 'identity',
                           str(EPOCHS), '0'], rows[1]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    playground = browser.find_element(
        By.CSS_SELECTOR, '.d2lrec-playground')
    browser.execute_script('arguments[0].scrollIntoView()', playground)
    playground.screenshot(str(ARTIFACTS / f'{interface}-playground.png'))
    browser.save_screenshot(str(ARTIFACTS / f'{interface}-page.png'))
    assert rmse == pytest.approx(library_rmse(), abs=0.001)


def library_rmse():
    """The same run, by d2lrec in a new process."""
    out = subprocess.run([sys.executable, '-c', '''
from d2lrec import lab
from mxnet import npx
npx.set_np()
result = lab.train_and_evaluate(lab.Config(hidden_layers=(20,),
                                num_epochs=%d), plot=False, verbose=False)
print(result['test_rmse'])''' % EPOCHS], capture_output=True, text=True,
                         timeout=PATIENCE)
    assert out.returncode == 0, out.stderr
    return float(out.stdout)
